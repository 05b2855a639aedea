"""The package: ``pip install .`` gives a working ``rlhf-playground`` command with the bundled samples.

The wheel is built from a copy of the tree and installed ``--no-deps`` into a fresh venv that sees
this interpreter's libraries (torch and the rest) but not the source tree, so the samples, the
console script and the CLI are the installed ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from rlhf_playground.cli import with_default_command

ROOT = Path(__file__).resolve().parents[1]


def requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_package_depends_on_exactly_the_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["dependencies"] == requirements()
    assert project["scripts"]["rlhf-playground"] == "rlhf_playground.cli:console"


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], ["serve"]),
        (["--share"], ["serve", "--share"]),
        (["--trust-remote-code", "--port", "8000"], ["--trust-remote-code", "serve", "--port", "8000"]),
        (["sft", "--steps", "3"], ["sft", "--steps", "3"]),
        (["--help"], ["--help"]),
    ],
)
def test_a_bare_command_serves(argv, expected):
    assert with_default_command(argv) == expected


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv holding the built wheel; returns its bin folder."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    shutil.copytree(ROOT / "rlhf_playground", source / "rlhf_playground", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(tmp)], check=True)
    (wheel,) = tmp.glob("rlhf_playground-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bin_dir / ("python.exe" if sys.platform == "win32" else "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], check=True)
    return bin_dir


def _run(installed: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(installed / "rlhf-playground"), *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.mark.slow
def test_the_installed_command_runs_a_stage_on_the_bundled_samples(installed, tmp_path):
    helped = _run(installed, "sft", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "usage: rlhf-playground sft" in helped.stdout
    served = _run(installed, "serve", "--help", cwd=tmp_path)
    assert served.returncode == 0 and "--share" in served.stdout
    prepared = _run(installed, "data", "prepare", "prompts", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert json.loads(prepared.stdout.strip().splitlines()[-1])["prompts_extracted"] == 360
    where = subprocess.run(
        [str(installed / "python"), "-c", "import rlhf_playground; print(rlhf_playground.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert str(installed.parent) in where.stdout  # the installed copy, not the source tree
    wrong = _run(installed, "sft", "--max-steps", "1", cwd=tmp_path)  # no dataset
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: ")


def test_the_colab_notebook_installs_the_package_and_serves_with_a_public_link(monkeypatch):
    notebook = json.loads((ROOT / "notebooks" / "colab.ipynb").read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4 and all(cell.get("id") for cell in notebook["cells"])
    install, launch = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert 'pip install -q "rlhf-playground @ git+{REPO}"' in install
    from rlhf_playground.ui import app

    served = []
    monkeypatch.setattr(app, "launch", lambda **kwargs: served.append(kwargs))
    monkeypatch.setenv("RLHF_WORKSPACE", "/content/workspace")  # what the cell sets, undone after the test
    exec(compile(launch, "colab launch cell", "exec"), {})
    assert served == [{"share": True}]


def test_every_stage_is_a_command_with_its_help_line_from_the_registry():
    from rlhf_playground.cli import build_parser
    from rlhf_playground.registry import STAGES

    commands = next(a for a in build_parser()._actions if a.dest == "command")
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    assert {name: stage.help for name, stage in STAGES.items()} == {name: helps[name] for name in STAGES}
    assert all(stage.help for stage in STAGES.values())
    assert {"data", "resume", "push", "serve"} <= set(helps)
