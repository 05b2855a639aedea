"""report_to: TRL's trainers and our PPO send their metrics to TensorBoard (in the run folder), trackio or wandb."""

from __future__ import annotations

import sys
import types

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from test_ppo_trainer import tiny_config as ppo_config
from test_sft import pairs_file, tiny_config, train  # noqa: F401 - pairs_file is a fixture

from rlhf_playground import tracking
from rlhf_playground.errors import UserError
from rlhf_playground.jobs import list_runs, open_run
from rlhf_playground.jobs.execute import run_stage
from rlhf_playground.registry import config_class
from rlhf_playground.stages import ppo
from rlhf_playground.workspace import SAMPLES_DIR


def scalars(run) -> dict[str, list[tuple[int, float]]]:
    folders = [p for p in (run.path / tracking.TENSORBOARD_DIR).rglob("*") if p.name.startswith("events.out")]
    assert folders, "no TensorBoard event file in the run folder"
    events = EventAccumulator(str(folders[0].parent))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.mark.slow
def test_an_sft_run_logs_to_tensorboard_in_its_run_folder(pairs_file, tiny_model_dir, monkeypatch):  # noqa: F811
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)  # the job sets it: undone after the test
    run = train(tiny_config(tiny_model_dir, pairs_file, report_to="tensorboard"))
    found = scalars(run)
    assert [step for step, _ in found["train/loss"]] == [1, 2, 3]


@pytest.mark.slow
def test_our_ppo_logs_the_same_metrics_to_tensorboard(tiny_model_dir):
    assert (
        run_stage(
            "ppo",
            ppo_config(tiny_model_dir, dataset=str(SAMPLES_DIR / "prompts.jsonl"), report_to="tensorboard"),
            ppo.run,
        )
        == 0
    )
    run = open_run(list_runs("ppo")[0]["id"])
    found = scalars(run)
    assert [step for step, _ in found["train/reward_mean"]] == [1, 2, 3]
    assert {"train/kl", "train/policy_loss", "train/entropy"} <= set(found)
    metrics = run.metrics()
    assert [value for _, value in found["train/kl"]] == pytest.approx([m["kl"] for m in metrics], rel=1e-6)


def test_without_report_to_nothing_is_tracked(tiny_model_dir):
    assert (
        run_stage("ppo", ppo_config(tiny_model_dir, dataset=str(SAMPLES_DIR / "prompts.jsonl"), steps=1), ppo.run) == 0
    )
    assert not (open_run(list_runs("ppo")[0]["id"]).path / tracking.TENSORBOARD_DIR).exists()


class FakeTracker(types.ModuleType):
    """trackio's and wandb's interface: init, log, finish."""

    def __init__(self, name):
        super().__init__(name)
        self.calls = []
        self.init = lambda **kw: self.calls.append(("init", kw))
        self.log = lambda metrics, step=None: self.calls.append(("log", metrics, step))
        self.finish = lambda: self.calls.append(("finish",))


@pytest.mark.parametrize("kind", ["trackio", "wandb"])
def test_trackio_and_wandb_get_a_project_a_run_and_each_steps_numbers(kind, monkeypatch, tmp_path):
    fake = FakeTracker(kind)
    monkeypatch.setitem(sys.modules, kind, fake)
    run = types.SimpleNamespace(id="20260101-000000-ppo-abcd", path=tmp_path)
    tracker = tracking.Tracker(kind, run, {"steps": 2})
    tracker.log({"step": 1, "kl": 0.5, "reward_mean": 0.25, "note": "text"}, step=1)
    tracker.close()
    init = fake.calls[0][1]
    assert (init["project"], init["name"], init["config"]) == ("rlhf-playground", run.id, {"steps": 2})
    assert fake.calls[1:] == [("log", {"train/kl": 0.5, "train/reward_mean": 0.25}, 1), ("finish",)]


def test_trl_trainers_are_told_where_to_log(monkeypatch, tmp_path):
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    run = types.SimpleNamespace(id="20260101-000000-sft-abcd", path=tmp_path)
    assert tracking.trainer_tracking("tensorboard", run) == {"report_to": "tensorboard", "run_name": run.id}
    assert tracking.os.environ["TENSORBOARD_LOGGING_DIR"] == str(tmp_path / "tensorboard")
    assert tracking.trainer_tracking("trackio", run)["project"] == "rlhf-playground"
    assert tracking.trainer_tracking("none", run)["report_to"] == "none"


@pytest.mark.parametrize("stage", ["sft", "reward", "ppo", "dpo", "grpo", "rloo"])
def test_every_training_stage_checks_report_to(stage, monkeypatch):
    config = config_class(stage)
    with pytest.raises(UserError, match="report_to must be one of none, tensorboard, trackio, wandb"):
        config(dataset="x", report_to="mlflow").check_values()
    real = tracking.importlib.util.find_spec
    monkeypatch.setattr(tracking.importlib.util, "find_spec", lambda n, *a: None if n == "wandb" else real(n, *a))
    with pytest.raises(UserError, match="wandb isn't installed here: `pip install wandb`"):
        config(dataset="x", report_to="wandb").check_values()
    monkeypatch.setenv("RLHF_HOSTED", "1")
    with pytest.raises(UserError, match="A shared app doesn't report to trackio"):
        config(dataset="x", report_to="trackio").check_values()
    config(dataset="x", report_to="tensorboard").check_values()  # stays in the run folder: fine when hosted
