"""The one-click workshop demo, on the tiny model: four stage runs, one after another, ending in a comparison."""

from __future__ import annotations

import json
import time

import pytest

from rlhf_playground.errors import UserError
from rlhf_playground.jobs import list_runs, open_run, runner
from rlhf_playground.stages.demo import SENTIMENT_PAIRS, DemoConfig


@pytest.mark.slow
def test_the_demo_runs_every_stage_and_compares_base_sft_and_ppo(tiny_model_dir):
    config = DemoConfig(
        model=str(tiny_model_dir), sft_steps=2, reward_steps=2, ppo_steps=1, compare_prompts=2, max_new_tokens=4
    )
    demo = runner.start("demo", config)
    deadline = time.monotonic() + 1800  # four jobs one after another: generous, it waits for the outcome
    etas = set()
    while demo.status()["state"] not in ("finished", "failed", "stopped") and time.monotonic() < deadline:
        etas.add(demo.status().get("eta_s"))
        time.sleep(1)
    status = demo.status()
    assert status["state"] == "finished", demo.tail_log(40)
    assert any(isinstance(eta, float) and eta > 0 for eta in etas) and status["eta_s"] is None  # the whole demo's
    children = status["children"]
    assert list(children) == ["sft", "reward", "ppo", "compare"]
    for stage, run_id in children.items():
        assert open_run(run_id).status()["state"] == "finished", (stage, open_run(run_id).tail_log(20))
    ppo = json.loads((open_run(children["ppo"]).path / "config.json").read_text())
    assert ppo["adapter"].endswith("artifacts/adapter") and ppo["reward"] == f"reward:{children['reward']}"
    assert not ppo["evaluate"] and not (open_run(children["ppo"]).artifacts / "eval.json").exists()  # compare does
    assert ppo["adaptive_kl"] and ppo["target_kl"] == 1.5 and ppo["seed"] == 42
    assert (ppo["batch_size"], ppo["mini_batch_size"], ppo["ppo_epochs"], ppo["compute_dtype"]) == (
        16,
        4,
        2,
        "bfloat16",
    )
    result = json.loads((open_run(children["compare"]).artifacts / "results.json").read_text())
    assert result["models"] == ["base", "SFT", "PPO"] and len(result["rows"]) == 2  # named for what they are
    assert result["settings"]["tuned"] == f"SFT={children['sft']},PPO={children['ppo']}"  # the runs, in small print
    assert result["summary"]["reward"] == f"reward:{children['reward']}"
    assert result["summary"]["scorers"] == ["judge", "lexicon"]  # two scorers that share nothing with the reward
    assert all(isinstance(m["relevance"], float) for m in result["summary"]["models"].values())  # still on topic?
    assert "Against the base on 2 prompts, PPO moved judge" in demo.tail_log(5)  # one sentence, not raw Markdown
    assert "|---" not in demo.tail_log(40) and "**" not in demo.tail_log(40)
    assert {r["stage"] for r in list_runs()} == {"demo", "sft", "reward", "ppo", "compare"}


def test_bad_demo_settings_are_refused():
    with pytest.raises(UserError, match="reward"):
        DemoConfig(reward="sentiment").validate()
    with pytest.raises(UserError, match="ppo_steps"):
        DemoConfig(ppo_steps=0).validate()
    with pytest.raises(UserError, match="ppo_epochs"):
        DemoConfig(ppo_epochs=0).validate()
    with pytest.raises(UserError, match="target_kl above 0"):
        DemoConfig(target_kl=0).validate()
    with pytest.raises(UserError, match="ppo_batch_size must be a multiple of 4"):
        DemoConfig(ppo_batch_size=6).validate()
    with pytest.raises(UserError, match="compute_dtype must be one of auto, float32, bfloat16, float16"):
        DemoConfig(compute_dtype="int8").validate()


def test_every_step_of_the_demo_takes_its_seed():
    from rlhf_playground.stages.demo import stage_configs

    configs = stage_configs(DemoConfig(seed=7))
    assert configs["sft"].seed == configs["reward"].seed == 7
    assert configs["sft"].compute_dtype == "bfloat16" and configs["reward"].compute_dtype == "auto"  # MiniLM: small


def test_the_demo_can_learn_its_reward_from_your_labels():
    from rlhf_playground.labels.store import LabelSet, Pair
    from rlhf_playground.stages.demo import stage_configs
    from rlhf_playground.workspace import datasets_dir

    with pytest.raises(UserError, match="There is no saved dataset 'my-labels'"):
        DemoConfig(pairs="my-labels").validate()
    LabelSet(datasets_dir() / "my-labels").record(Pair("p1", "Hi?", "Hello!", "Go away.", "default", {}), "a", "me")
    DemoConfig(pairs="my-labels").validate()
    configs = stage_configs(DemoConfig(pairs="my-labels"))
    assert configs["reward"].dataset == "my-labels" and configs["sft"].dataset == SENTIMENT_PAIRS  # SFT: warm answers
    assert stage_configs(DemoConfig())["reward"].dataset == SENTIMENT_PAIRS  # by default: the bundled graded pairs


def test_the_whole_demo_eta_scales_the_steps_to_come_by_this_machines_pace():
    from rlhf_playground.jobs import create_run
    from rlhf_playground.stages import demo as stage

    config = DemoConfig()
    estimate = {s: stage.SECONDS_PER_UNIT[s] * n for s, n in stage.units(config).items()}
    run = create_run("demo", config)
    run.update_status(state="running", started=1000.0)
    assert stage.eta_s(run, now=1000.0) == pytest.approx(sum(estimate.values()))  # nothing measured yet: pace 1

    sft = create_run("sft", config)
    sft.update_status(state="finished", started=1000.0, ended=1000.0 + 2 * estimate["sft"])  # this machine: 2x slower
    reward = create_run("reward", config)
    reward.update_status(state="running", started=2000.0, step=15, total_steps=30)  # half done, no ETA of its own
    run.update_status(children={"sft": sft.id, "reward": reward.id})
    now = 2000.0 + estimate["reward"]  # half the reward model took its whole estimate: pace 2 again
    later = estimate["ppo"] + estimate["compare"]
    assert stage.eta_s(run, now=now) == pytest.approx(2 * (estimate["reward"] / 2 + later))

    reward.update_status(eta_s=7.0)  # the running step's own ETA wins for that step
    assert stage.eta_s(run, now=now) == pytest.approx(7.0 + 2 * later)

    run.update_status(state="finished")
    assert stage.eta_s(run) is None


def test_the_host_presets_the_demo_form_for_a_workshop_and_a_wrong_preset_is_named(monkeypatch, capsys):
    from rlhf_playground.hosting import presets
    from rlhf_playground.ui.demo_tab import workshop_defaults

    monkeypatch.setenv("RLHF_DEMO_SFT_STEPS", "7")
    monkeypatch.setenv("RLHF_DEMO_REWARD", "lexicon")
    monkeypatch.setenv("RLHF_DEMO_LOAD_IN_4BIT", "no")
    assert presets(DemoConfig) == {"sft_steps": 7, "reward": "lexicon", "load_in_4bit": False}
    monkeypatch.setenv("RLHF_DEMO_PPO_STEPS", "many")
    with pytest.raises(UserError, match="RLHF_DEMO_PPO_STEPS='many' should be a whole number"):
        presets(DemoConfig)
    monkeypatch.setenv("RLHF_DEMO_PPO_STEPS", "0")
    with pytest.raises(UserError, match="ppo_steps must be at least 1"):
        presets(DemoConfig)
    assert workshop_defaults() == {}  # the app still starts, with the usual defaults, and the log says why
    assert "RLHF_DEMO_" in capsys.readouterr().err
    monkeypatch.setenv("RLHF_DEMO_PPO_STEPS", "3")

    from rlhf_playground.ui.app import build_app

    shown = {b.elem_id: getattr(b, "value", None) for b in build_app().blocks.values() if getattr(b, "elem_id", None)}
    assert (shown["demo-sft_steps"], shown["demo-ppo_steps"], shown["demo-reward"]) == (7, 3, "lexicon")
