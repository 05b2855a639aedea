"""The DPO · GRPO · RLOO tab, driven through the running app: short runs on the tiny model, bad settings,
and the method comparison table."""

from __future__ import annotations

import json
import time

import pytest
from gradio_client import Client
from serve import running_app

from rlhf_playground.stages.dpo import DPOStageConfig
from rlhf_playground.stages.grpo import GRPOStageConfig
from rlhf_playground.stages.rloo import RLOOStageConfig
from rlhf_playground.ui.methods_tab import GROUPS

TOPICS = ["the sea", "a train ride", "winter", "a good book", "my garden", "a rainy day", "music", "tea"]


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("ui-methods")
    workspace = root / "workspace"
    workspace.mkdir()
    prompts, pairs = root / "prompts.jsonl", root / "pairs.jsonl"
    prompts.write_text(
        "".join(json.dumps({"prompt": f"Tell me about {t}."}) + "\n" for t in TOPICS * 2), encoding="utf-8"
    )
    pairs.write_text(
        "".join(
            json.dumps({"prompt": f"Tell me about {t}.", "chosen": f"{t} is lovely.", "rejected": f"{t} is awful."})
            + "\n"
            for t in TOPICS * 2
        ),
        encoding="utf-8",
    )
    with running_app(workspace) as url:
        yield Client(url, verbose=False), str(tiny_model_dir), str(prompts), str(pairs)


def start(c, stage, config_cls, **settings):
    fields = [name for _, names in GROUPS[stage] for name in names]
    values = {**vars(config_cls()), **settings}
    return c.predict(*[values[name] for name in fields], api_name=f"/{stage}_start")[0]  # (message, run id)


def wait(c, stage, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = c.predict(api_name=f"/{stage}_poll")
        if any(word in shown[0] for word in ("finished", "failed", "stopped")):
            return shown
        time.sleep(0.5)
    raise AssertionError(f"the {stage} run didn't end in {timeout} s: {shown[0]}")


@pytest.mark.slow
def test_a_short_grpo_run_shows_rewards_and_answers(client):
    c, model, prompts, _ = client
    assert "started" in start(
        c,
        "grpo",
        GRPOStageConfig,
        model=model,
        dataset=prompts,
        steps=2,
        batch_size=4,
        num_generations=2,
        num_iterations=1,  # a new batch of answers, so a reward point, at every update
        max_new_tokens=6,
        eval_prompts=4,
    )
    progress, reward, spread, kl, entropy, length, log, evaluation, samples, _timer = wait(c, "grpo")
    assert "finished: step 2/2" in progress, log
    assert [row[0] for row in reward["data"]] == [1, 2]
    assert "before" in evaluation and "after" in evaluation
    assert samples["headers"] == ["prompt", "response", "reward"] and len(samples["data"]) == 4


@pytest.mark.slow
def test_a_short_dpo_run_shows_loss_accuracy_and_margins(client):
    c, model, prompts, pairs = client
    assert "started" in start(
        c,
        "dpo",
        DPOStageConfig,
        model=model,
        dataset=pairs,
        eval_dataset=prompts,
        steps=2,
        batch_size=4,
        max_new_tokens=6,
        eval_prompts=4,
        max_length=64,
    )
    progress, loss, accuracy, margins, log, evaluation, _timer = wait(c, "dpo")
    assert "finished: step 2/2" in progress, log
    assert len(loss["data"]) == 2 and {row[2] for row in margins["data"]} == {
        "rewards/margins",
        "rewards/chosen",
        "rewards/rejected",
    }
    assert "before" in evaluation


@pytest.mark.slow  # reads the runs of the two slow tests above
def test_the_comparison_table_shows_both_finished_runs(client):
    c, *_ = client
    group, note, frame, chart = c.predict(None, api_name="/methods_table")
    methods = {row[frame["headers"].index("method")] for row in frame["data"]}
    assert methods == {"GRPO", "DPO"}, note  # same base, held-out prompts and reward: one group
    assert {row[2] for row in chart["data"]} == {"before", "after"}


def test_bad_settings_are_refused(client):
    c, model, prompts, pairs = client
    message = start(c, "grpo", GRPOStageConfig, model=model, dataset=prompts, batch_size=6, num_generations=4)
    assert message.startswith("**⚠️") and "num_generations" in message
    message = start(c, "rloo", RLOOStageConfig, model=model, dataset=prompts, num_generations=1)
    assert message.startswith("**⚠️") and "at least 2" in message
    message = start(c, "dpo", DPOStageConfig, model=model, dataset=prompts)
    assert message.startswith("**⚠️") and "preference" in message
