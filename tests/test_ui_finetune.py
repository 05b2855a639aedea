"""The Fine-tune tab, driven through the running app: start, watch, stop, bad settings."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from gradio_client import Client
from serve import running_app

from rlhf_playground.stages.sft import SFTStageConfig
from rlhf_playground.ui.finetune_tab import GROUPS

FIELDS = [name for _, names in GROUPS for name in names]


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("ui-sft")
    workspace = root / "workspace"
    workspace.mkdir()
    texts = root / "texts.jsonl"
    words = ["cats", "dogs", "rain", "tea", "books", "trains", "music", "parks"]
    texts.write_text(
        "".join(json.dumps({"text": f"I like {w} and {v}."}) + "\n" for w in words for v in words), encoding="utf-8"
    )
    with running_app(workspace) as url:
        yield Client(url, verbose=False), str(tiny_model_dir), str(texts), workspace


def start(c, **settings):
    """Press Start with the form holding the defaults plus ``settings`` (in the form's field order)."""
    values = {**vars(SFTStageConfig()), "load_in_4bit": False, "eval_prompts": 2, "max_new_tokens": 6, **settings}
    return c.predict(*[values[name] for name in FIELDS], api_name="/sft_start")[0]  # (message, run id)


def poll_until(c, done, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = c.predict(api_name="/sft_poll")
        if done(shown):
            return shown
        time.sleep(0.5)
    raise AssertionError(f"timed out; last view: {shown[0]} {shown[-3][-500:]}")


def test_impossible_settings_are_refused_before_a_run(client):
    c, model, texts, workspace = client
    message = start(c, model=model, dataset=texts, learning_rate=0)
    assert message.startswith("**⚠️") and "learning_rate" in message
    message = start(c, model=model, dataset=texts, report_to="everywhere")  # not one of the menu's choices
    assert message.startswith("**⚠️") and "report_to must be one of none, tensorboard" in message


@pytest.mark.slow
def test_a_short_run_shows_progress_loss_and_samples(client):
    c, model, texts, workspace = client
    message = start(c, model=model, dataset=texts, max_steps=4, batch_size=4)
    assert "started" in message
    progress, plot, accuracy, log, samples, _timer = poll_until(
        c, lambda shown: "finished" in shown[0] or "failed" in shown[0]
    )
    assert "finished: step 4/4" in progress
    assert {row[2] for row in plot["data"]} >= {"loss"} and len(plot["data"]) >= 4
    assert samples["headers"] == ["prompt", "base", "tuned"] and len(samples["data"]) == 2


@pytest.mark.slow
def test_stop_ends_a_long_run(client):
    c, model, texts, workspace = client
    assert "started" in start(c, model=model, dataset=texts, max_steps=5000, batch_size=2)
    poll_until(c, lambda shown: "running: step" in shown[0] and "step 0/" not in shown[0])
    message = c.predict(api_name="/sft_stop")  # returns once the job has ended (the runner kills it after ~4.5 s)
    assert "stopped" in message
    progress, *_ = c.predict(api_name="/sft_poll")
    assert progress.count("stopped") >= 1


@pytest.mark.slow
def test_a_killed_job_shows_as_failed_and_the_app_keeps_serving(client):
    c, model, texts, workspace = client
    assert "started" in start(c, model=model, dataset=texts, max_steps=5000, batch_size=2)
    poll_until(c, lambda shown: "running: step" in shown[0] and "step 0/" not in shown[0])
    runs = sorted((workspace / "runs").iterdir())
    status = json.loads((runs[-1] / "status.json").read_text())
    os.kill(status["pid"], signal.SIGKILL)
    progress, *_ = poll_until(c, lambda shown: "failed" in shown[0], timeout=120)
    assert "died unexpectedly" in progress
    assert "started" in start(c, model=model, dataset=texts, max_steps=1)
