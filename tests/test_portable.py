"""The job system runs where ``fcntl`` and POSIX-only signals don't exist (Windows): here, with fcntl made
unimportable in the tests and in every job process they start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def test_no_module_of_the_package_imports_fcntl():
    package = TESTS.parent / "rlhf_playground"
    users = [str(p) for p in package.rglob("*.py") if "fcntl" in p.read_text(encoding="utf-8")]
    assert users == []


@pytest.mark.slow
def test_the_job_tests_pass_with_fcntl_unimportable(tmp_path):
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["fcntl"] = None  # as on Windows\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    probe = subprocess.run([sys.executable, "-c", "import fcntl"], env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and "fcntl" in probe.stderr  # the guard holds (and jobs inherit PYTHONPATH)
    tests = [f"tests/{name}" for name in ("test_jobs.py", "test_scheduler.py")]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=TESTS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
