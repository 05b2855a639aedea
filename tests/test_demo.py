"""The one-click workshop demo, on the tiny model: four stage runs, one after another, ending in a comparison."""

from __future__ import annotations

import json
import time

import pytest

from rlhf_playground.errors import UserError
from rlhf_playground.jobs import list_runs, open_run, runner
from rlhf_playground.stages.demo import DemoConfig


@pytest.mark.slow
def test_the_demo_runs_every_stage_and_compares_base_sft_and_ppo(tiny_model_dir):
    config = DemoConfig(
        model=str(tiny_model_dir), sft_steps=2, reward_steps=2, ppo_steps=1, compare_prompts=2, max_new_tokens=4
    )
    demo = runner.start("demo", config)
    deadline = time.monotonic() + 1800  # four jobs one after another: generous, it waits for the outcome
    while demo.status()["state"] not in ("finished", "failed", "stopped") and time.monotonic() < deadline:
        time.sleep(1)
    status = demo.status()
    assert status["state"] == "finished", demo.tail_log(40)
    children = status["children"]
    assert list(children) == ["sft", "reward", "ppo", "compare"]
    for stage, run_id in children.items():
        assert open_run(run_id).status()["state"] == "finished", (stage, open_run(run_id).tail_log(20))
    ppo = json.loads((open_run(children["ppo"]).path / "config.json").read_text())
    assert ppo["adapter"].endswith("artifacts/adapter") and ppo["reward"] == f"reward:{children['reward']}"
    result = json.loads((open_run(children["compare"]).artifacts / "results.json").read_text())
    assert result["models"] == ["base", children["sft"], children["ppo"]] and len(result["rows"]) == 2
    assert result["summary"]["reward"] == f"reward:{children['reward']}"
    assert {r["stage"] for r in list_runs()} == {"demo", "sft", "reward", "ppo", "compare"}


def test_bad_demo_settings_are_refused():
    with pytest.raises(UserError, match="reward"):
        DemoConfig(reward="sentiment").validate()
    with pytest.raises(UserError, match="ppo_steps"):
        DemoConfig(ppo_steps=0).validate()
