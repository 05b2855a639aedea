"""The PPO tab, driven through the running app: a short run on the tiny model, and bad settings."""

from __future__ import annotations

import json
import time

import pytest
from gradio_client import Client
from serve import running_app

from rlhf_playground.ppo.config import PPOStageConfig
from rlhf_playground.ui.ppo_tab import GROUPS

FIELDS = [name for _, names in GROUPS for name in names]


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("ui-ppo")
    workspace = root / "workspace"
    workspace.mkdir()
    prompts = root / "prompts.jsonl"
    topics = ["the sea", "a train ride", "winter", "a good book", "my garden", "a rainy day", "music", "tea"]
    prompts.write_text(
        "".join(json.dumps({"prompt": f"Tell me about {t}."}) + "\n" for t in topics * 2), encoding="utf-8"
    )
    with running_app(workspace) as url:
        yield Client(url, verbose=False), str(tiny_model_dir), str(prompts)


def start(c, **settings):
    values = {
        **vars(PPOStageConfig()),
        "steps": 3,
        "batch_size": 4,
        "mini_batch_size": 2,
        "max_new_tokens": 6,
        "eval_prompts": 4,
        **settings,
    }
    return c.predict(*[values[name] for name in FIELDS], api_name="/ppo_start")[0]  # (message, run id)


@pytest.mark.slow
def test_a_short_ppo_run_shows_rewards_kl_and_answers(client):
    c, model, prompts = client
    assert "started" in start(c, model=model, dataset=prompts)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        shown = c.predict(api_name="/ppo_poll")
        if "finished" in shown[0] or "failed" in shown[0]:
            break
        time.sleep(0.5)
    progress, rewards, kl, distinct, explained, critic, entropy, losses, length, log, evaluation, samples, _timer = (
        shown
    )
    assert "finished: step 3/3" in progress, log
    assert {row[2] for row in rewards["data"]} == {"reward_mean", "reward_min", "reward_max"}
    assert len(kl["data"]) == 3 and all(row[1] == row[1] for row in kl["data"])  # finite, not NaN
    assert all(0 <= row[1] <= 1 for row in distinct["data"])  # distinct-2 of each step's answers
    assert {row[2] for row in critic["data"]} == {"value_mean", "return_mean"}  # the critic in view
    assert all(row[1] <= 1 for row in explained["data"])  # explained variance: at most 1 (NaN steps left out)
    assert {row[2] for row in losses["data"]} == {"value_loss", "clipfrac", "ratio_mean"}
    assert "before" in evaluation and "after" in evaluation
    assert samples["headers"] == ["prompt", "response", "reward"] and len(samples["data"]) == 4


def test_impossible_settings_and_missing_prompts_are_refused(client):
    c, model, prompts = client
    message = start(c, model=model, dataset=prompts, mini_batch_size=3)
    assert message.startswith("**⚠️") and "mini_batch_size" in message
    message = start(c, model=model, dataset="")
    assert message.startswith("**⚠️")
