"""Safety: Hugging Face tokens never reach run folders, logs or messages; remote code only on request."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
from test_jobs import wait_for  # pytest puts tests/ on sys.path

from rlhf_playground.errors import REDACTED, UserError, redact
from rlhf_playground.jobs import runner
from rlhf_playground.jobs.execute import describe_failure, run_stage
from rlhf_playground.jobs.runs import list_runs, open_run
from rlhf_playground.stages.sft import SFTStageConfig

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"  # the shape of a real token, 34 characters after hf_
OTHER = "secret-token-1234"  # a token of another shape, known only from the environment


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", OTHER)
    return TOKEN


@dataclass
class NoteConfig:
    note: str = ""

    def validate(self) -> None:
        pass


def run_folder_text(run) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in run.path.rglob("*") if p.is_file())


def test_redact_hides_token_shapes_and_the_tokens_in_the_environment(token):
    text = f"GET https://huggingface.co/x?token={TOKEN} with {OTHER} and hf_{'z' * 30}"
    assert redact(text) == f"GET https://huggingface.co/x?token={REDACTED} with {REDACTED} and {REDACTED}"
    assert redact("hf_short and the word secret") == "hf_short and the word secret"
    assert TOKEN not in str(UserError(f"bad token {TOKEN}"))
    assert TOKEN not in describe_failure(RuntimeError(f"401 for {TOKEN}"))
    assert TOKEN not in describe_failure(OSError(28, f"No space left writing {TOKEN}"))


def test_foreground_job_that_prints_and_fails_with_the_token(token, capsys):
    def leaky(config, run):
        print(f"using token {TOKEN} and {OTHER}", flush=True)
        run.log(f"logged {TOKEN}")
        run.append_metrics({"step": 1, "note": TOKEN})
        raise RuntimeError(f"hub said 401 for {TOKEN}")

    assert run_stage("leaky", NoteConfig(note=f"pasted {TOKEN}"), leaky) == 1
    run = open_run(list_runs()[0]["id"])
    status = run.status()
    assert status["state"] == "failed" and REDACTED in status["reason"]
    assert run.config()["note"] == f"pasted {REDACTED}"
    printed = capsys.readouterr()
    text = run_folder_text(run) + printed.out + printed.err
    assert "using token" in text and TOKEN not in text and OTHER not in text


def test_detached_job_failing_with_the_token_keeps_it_out_of_the_run_folder(token, tiny_model_dir, tmp_path):
    dataset = tmp_path / "d.jsonl"
    dataset.write_text(json.dumps({"prompt": "hi", "completion": " there"}) + "\n")
    config = SFTStageConfig(
        model=str(tiny_model_dir),
        dataset=str(dataset),
        max_steps=1,
        batch_size=1,
        max_length=32,
        eval_prompts=0,
        load_in_4bit=False,
        target_modules=TOKEN,
    )
    run = runner.start("sft", config)  # LoRA on a layer named like the token: fails once the model is loaded
    status = wait_for(lambda: run.status()["state"] == "failed" and run.status(), what="the job to fail")
    assert "target_modules" in status["reason"] and REDACTED in status["reason"]
    assert REDACTED in run.tail_log()
    assert TOKEN not in run_folder_text(run)


# ------------------------------------------------------------------ trust_remote_code
CUSTOM_CONFIG = """
from pathlib import Path
from transformers import PretrainedConfig

Path("{marker}").touch()  # proof that the model's own code ran


class CustomConfig(PretrainedConfig):
    model_type = "custom-remote"
"""


@pytest.fixture
def remote_code_model(tmp_path, tiny_model_dir):
    """A model folder whose config.json points at its own Python file, as trust_remote_code models do."""
    import shutil

    folder = tmp_path / "custom-remote"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="custom-remote", auto_map={"AutoConfig": "configuration_custom.CustomConfig"})
    (folder / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "code-ran"
    (folder / "configuration_custom.py").write_text(CUSTOM_CONFIG.format(marker=marker))
    return folder, marker


def test_remote_code_is_off_unless_asked_for_and_never_when_hosted(monkeypatch):
    from rlhf_playground.models import TRUST_REMOTE_CODE_ENV, allow_remote_code, remote_code_allowed

    monkeypatch.setenv(TRUST_REMOTE_CODE_ENV, "0")
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("RLHF_HOSTED", raising=False)
    assert not remote_code_allowed()
    allow_remote_code()
    assert remote_code_allowed() and os.environ[TRUST_REMOTE_CODE_ENV] == "1"  # inherited by the jobs it starts
    monkeypatch.setenv("RLHF_HOSTED", "1")
    assert not remote_code_allowed()
    with pytest.raises(UserError, match="hosted"):
        allow_remote_code()


def test_command_line_flag_opts_in_and_is_refused_when_hosted(monkeypatch, capsys, tmp_path):
    from rlhf_playground.cli import main
    from rlhf_playground.models import TRUST_REMOTE_CODE_ENV

    command = ["--trust-remote-code", "data", "prepare", "missing.jsonl", "--out", str(tmp_path / "out")]
    monkeypatch.setenv(TRUST_REMOTE_CODE_ENV, "0")
    monkeypatch.setenv("RLHF_HOSTED", "1")
    assert main(command) == 2
    assert "never runs a model's own code" in capsys.readouterr().err
    monkeypatch.delenv("RLHF_HOSTED")
    assert main(command) == 2  # opted in, then the command's own error
    assert os.environ[TRUST_REMOTE_CODE_ENV] == "1" and "There is no file" in capsys.readouterr().err


def test_a_model_with_its_own_code_runs_it_only_after_opting_in(remote_code_model, monkeypatch):
    from rlhf_playground.models import TRUST_REMOTE_CODE_ENV, load_causal_lm

    folder, marker = remote_code_model
    monkeypatch.setenv(TRUST_REMOTE_CODE_ENV, "0")
    with pytest.raises(
        UserError, match="runs its own Python code. Only if you trust its authors, allow it with --trust-remote-code"
    ):
        load_causal_lm(str(folder))
    assert not marker.exists()
    monkeypatch.setenv(TRUST_REMOTE_CODE_ENV, "1")
    with pytest.raises(Exception):  # the custom config names no model class; what matters is that its code ran
        load_causal_lm(str(folder))
    assert marker.exists()


# ------------------------------------------------------------------ names stay in the workspace
@pytest.mark.parametrize("name", ["..", "../outside", "/etc/passwd", "a/b", "~", ".hidden", "x" * 81, ""])
def test_dataset_and_run_names_cannot_leave_the_workspace(name):
    from rlhf_playground import data

    table = data.Table([{"prompt": "hi"}], ["prompt"], "t")
    with pytest.raises(UserError, match="can't be used"):
        data.save_dataset(data.prepare(table), name)
    with pytest.raises(UserError, match="can't be used"):
        data.read_dataset(name)
    if name and "/" not in name:  # a bare name is a run id; paths are how the CLI names a run folder
        with pytest.raises(UserError, match="No run at"):
            open_run(name)
