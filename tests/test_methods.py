"""The method comparison reads finished runs' eval.json and compares only like with like."""

from __future__ import annotations

import pytest

from rlhf_playground import methods
from rlhf_playground.jobs import create_run
from rlhf_playground.ppo.config import PPOStageConfig
from rlhf_playground.stages.dpo import DPOStageConfig
from rlhf_playground.stages.grpo import GRPOStageConfig
from rlhf_playground.stages.rloo import RLOOStageConfig


def finished(stage, config, before, after, seconds, state="finished", reward="lexicon", steps=10):
    run = create_run(stage, config)
    run.update_status(state=state, started=1000.0, ended=1000.0 + seconds, step=steps)
    if after is not None:
        run.write_artifact_json(
            "eval.json",
            {"held_out_prompts": 8, "reward_before": before, "reward_after": after, "final_kl": None, "reward": reward},
        )
    return run


@pytest.fixture
def runs():
    return {
        "ppo": finished("ppo", PPOStageConfig(dataset="prompts", eval_prompts=8), 0.5, 0.9, 600),
        "grpo": finished("grpo", GRPOStageConfig(dataset="prompts", eval_prompts=8), 0.5, 0.7, 120),
        "rloo": finished("rloo", RLOOStageConfig(dataset="prompts", eval_prompts=8), 0.5, 0.6, 60),
        "dpo": finished("dpo", DPOStageConfig(dataset="pref", eval_dataset="prompts", eval_prompts=8), 0.5, 0.4, 30),
        # not comparable with the four above: another reward, another base, or no result
        "other reward": finished(
            "grpo", GRPOStageConfig(dataset="prompts", eval_prompts=8), 0.1, 0.2, 60, reward="reward:rm"
        ),
        "other base": finished("ppo", PPOStageConfig(model="gpt2", dataset="prompts", eval_prompts=8), 0.0, 0.1, 60),
        "failed": finished("rloo", RLOOStageConfig(dataset="prompts"), 0.5, 0.9, 60, state="failed"),
        "no eval": finished("dpo", DPOStageConfig(dataset="pref"), None, None, 60),
        "sft": finished("sft", PPOStageConfig(dataset="prompts"), 0.0, 1.0, 60),
    }


def test_rows_hold_reward_gain_time_and_gain_per_minute(runs):
    rows = {r["run"]: r for r in methods.method_rows()}
    assert set(rows) == {runs[k].id for k in ("ppo", "grpo", "rloo", "dpo", "other reward", "other base")}
    ppo = rows[runs["ppo"].id]
    assert ppo["method"] == "PPO" and ppo["base model"] == "default" and ppo["trained on"] == "prompts"
    assert ppo["gain"] == pytest.approx(0.4) and ppo["wall clock (s)"] == 600.0
    assert ppo["gain per minute"] == pytest.approx(0.04) and ppo["steps"] == 10
    dpo = rows[runs["dpo"].id]
    assert dpo["trained on"] == "pref" and dpo["held-out prompts"] == ppo["held-out prompts"] == "8 of prompts, seed 42"
    assert dpo["gain per minute"] == pytest.approx(-0.2)


def test_only_runs_with_the_same_base_prompts_and_reward_are_compared(runs):
    found = methods.compare()
    assert found["group"] == "default · 8 of prompts, seed 42 · lexicon"  # the group with all four methods
    assert [r["method"] for r in found["rows"]] == ["PPO", "GRPO", "RLOO", "DPO"]  # best reward first
    assert len(found["groups"]) == 3
    other = methods.compare("default · 8 of prompts, seed 42 · reward:rm")
    assert [r["run"] for r in other["rows"]] == [runs["other reward"].id]
    assert methods.compare("no such group")["group"] == found["group"]


def test_markdown_table_and_an_empty_workspace(runs):
    table = methods.markdown_table(methods.compare()["rows"])
    assert table.splitlines()[2] == "| PPO | 10 | 10.0 min | +0.500 → +0.900 | +0.0400 |"
    assert len(table.splitlines()) == 6


def test_nothing_to_compare_yet():
    assert methods.compare() == {"groups": [], "group": None, "rows": []}
