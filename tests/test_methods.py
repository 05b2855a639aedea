"""The method comparison reads finished runs' eval.json and compares only like with like."""

from __future__ import annotations

import pytest

from rlhf_playground.evaluation import methods
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
    lines = table.splitlines()
    assert lines[2] == "| PPO | 80 | 40 | 10.0 min | +0.500 → +0.900 | +0.0400 |"  # 10 batches of 8, 4 updates each
    assert lines[3] == "| GRPO | 24 | 10 | 2.0 min | +0.500 → +0.700 | +0.1000 |"  # 10 updates: 3 batches of 8
    assert len(lines) == 8 and lines[7].startswith("- DPO gained nothing: DPO never sees this reward")


def test_the_budget_counts_answers_and_updates_alike_for_every_method():
    ppo = {"batch_size": 8, "mini_batch_size": 4, "ppo_epochs": 2}
    online = {"batch_size": 8, "mini_batch_size": 4, "num_iterations": 2}
    assert methods.budget("ppo", ppo, 12) == (96, 48)
    assert methods.budget("grpo", online, 48) == methods.budget("rloo", online, 48) == (96, 48)
    assert methods.budget("grpo", online, 5) == (16, 5)  # the second batch was sampled, its updates not all made
    assert methods.budget("dpo", {"batch_size": 4}, 10) == (40, 10)
    assert methods.budget("grpo", online, None) == (None, None)


@pytest.mark.parametrize(
    "kl,rewards,expected",
    [
        (0.05, [0.3, 0.3, 0.4], "KL to the reference ended at 0.05 per answer: the policy barely moved"),
        (3.0, [0.5, 0.4, 0.3], "training reward did not rise (+0.50 in the first third of training, +0.30"),
        (3.0, [0.1, 0.4, 0.9], "training reward rose (+0.10 → +0.90) but the held-out prompts did not follow"),
    ],
)
def test_a_run_that_gained_nothing_says_why_from_its_metrics(kl, rewards, expected):
    metrics = [{"step": i + 1, "reward": r, "kl": kl} for i, r in enumerate(rewards)]
    assert expected in methods.why_no_gain("grpo", metrics)
    ppo = [{"step": i + 1, "reward_mean": r, "kl": kl} for i, r in enumerate(rewards)]
    assert expected in methods.why_no_gain("ppo", ppo)
    assert "too few steps" in methods.why_no_gain("rloo", metrics[:1] if kl > 1 else [])


def test_trls_kl_per_token_is_read_per_answer():
    """GRPO and RLOO log KL per token: 0.15 a token over 24 tokens moved the policy 3.6 nats, not 'barely'. TRL logs
    the answers' length only on the steps that sampled; the updates between reuse it."""
    metrics = [
        {"step": 1, "reward": 0.5, "kl": 0.0, "completions/mean_length": 20.0},
        {"step": 2, "kl": 0.1},
        {"step": 3, "reward": 0.3, "kl": 0.1, "completions/mean_length": 24.0},
        {"step": 4, "reward": 0.2, "kl": 0.15},
    ]
    assert methods.kls_per_answer("grpo", metrics) == pytest.approx([0.0, 2.0, 2.4, 3.6])
    assert methods.kls_per_answer("ppo", metrics) == [0.0, 0.1, 0.1, 0.15]
    assert "training reward did not rise" in methods.why_no_gain("grpo", metrics)
    assert "barely moved" in methods.why_no_gain("ppo", [{**m, "reward_mean": m.get("reward", 0.2)} for m in metrics])


def test_the_reason_reaches_the_row_only_when_nothing_was_gained(runs):
    for m in ({"step": 1, "reward": 0.2, "kl": 0.01}, {"step": 2, "reward": 0.2, "kl": 0.02}):
        runs["grpo"].append_metrics(m)
    rows = {r["run"]: r for r in methods.method_rows()}
    assert rows[runs["grpo"].id]["why no gain"] == ""  # it gained 0.2
    assert rows[runs["dpo"].id]["why no gain"].startswith("DPO never sees this reward")
    assert rows[runs["dpo"].id]["answers sampled"] == 10 * DPOStageConfig().batch_size


def test_nothing_to_compare_yet():
    assert methods.compare() == {"groups": [], "group": None, "rows": []}
