"""Recovery: a job killed, stopped, out of memory or out of disk ends as a failed (or stopped) run with a
readable reason, and a run with a checkpoint picks up where it left off."""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal

import pytest
from test_jobs import wait_for  # pytest puts tests/ on sys.path

from rlhf_playground.cli import resume
from rlhf_playground.errors import UserError
from rlhf_playground.jobs import list_runs, open_run, runner
from rlhf_playground.jobs.execute import run_stage
from rlhf_playground.jobs.runs import DIED, checkpoint_step, create_run
from rlhf_playground.stages import sft
from rlhf_playground.stages.sft import SFTStageConfig

MAX_STEPS, SAVE_STEPS = 12, 4


@pytest.fixture
def long_pairs(tmp_path):
    """Long answers, so that a step of the tiny model takes a few tenths of a second: time to kill it."""
    path = tmp_path / "pairs.jsonl"
    answer = " the quick brown fox jumps over the lazy dog" * 20
    path.write_text("".join(json.dumps({"prompt": f"hello {i}", "completion": answer}) + "\n" for i in range(16)))
    return path


def config(model, dataset, **overrides) -> SFTStageConfig:
    settings = dict(
        model=str(model),
        dataset=str(dataset),
        max_steps=MAX_STEPS,
        save_steps=SAVE_STEPS,
        batch_size=4,
        grad_accum=8,
        max_length=256,
        eval_prompts=1,
        max_new_tokens=4,
        load_in_4bit=False,
        learning_rate=1e-2,
    )
    return SFTStageConfig(**{**settings, **overrides})


def wait_until_ended(run) -> dict:
    return wait_for(
        lambda: run.status()["state"] not in ("queued", "running") and run.status(),
        timeout=600,
        what=f"run {run.id} to end",
    )


def losses(run) -> list[tuple[int, float]]:
    return [(m["step"], m["loss"]) for m in run.metrics() if "loss" in m]


def check_resumed(run, from_step: int) -> list[tuple[int, float]]:
    """After a resume: ``run`` ran again in its folder and finished as a fresh run would have; its losses."""
    status = wait_until_ended(run)
    assert (status["state"], status["step"]) == ("finished", MAX_STEPS), run.tail_log()
    assert f"\nresuming from checkpoint-{from_step}\n" in run.tail_log(100)  # the stage's word, not the runner's
    assert [step for step, _ in losses(run)] == list(range(1, MAX_STEPS + 1))
    assert (run.artifacts / "adapter" / "adapter_model.safetensors").is_file()
    assert not run.checkpoints.exists()  # deleted once training is over
    return losses(run)


@pytest.mark.slow
def test_killed_job_fails_readably_then_resumes_from_its_checkpoint(tiny_model_dir, long_pairs):
    uninterrupted = runner.start("sft", config(tiny_model_dir, long_pairs))
    assert wait_until_ended(uninterrupted)["state"] == "finished"
    run = runner.start("sft", config(tiny_model_dir, long_pairs))
    checkpoint = wait_for(run.latest_checkpoint, timeout=600, what="the first checkpoint")
    os.kill(run.status()["pid"], signal.SIGKILL)
    status = wait_until_ended(run)
    assert (status["state"], status["reason"]) == ("failed", DIED)
    assert checkpoint.name == f"checkpoint-{SAVE_STEPS}" and status["step"] < MAX_STEPS
    # The adapter, optimizer, schedule and data order come back: the same losses as without the kill.
    assert runner.resume(run).path == run.path and run.status()["state"] in ("queued", "running")
    resumed = check_resumed(run, SAVE_STEPS)
    assert [loss for _, loss in resumed] == pytest.approx([loss for _, loss in losses(uninterrupted)], rel=1e-4)


@pytest.mark.slow
def test_stop_saves_a_checkpoint_and_the_command_line_resumes_the_run(tiny_model_dir, long_pairs, capsys):
    run = runner.start("sft", config(tiny_model_dir, long_pairs, save_steps=100))
    wait_for(lambda: run.status().get("step", 0) >= 2, timeout=600, what="two steps")
    status = runner.stop(run)
    assert status["state"] == "stopped"
    stopped_at = checkpoint_step(run.latest_checkpoint())
    assert 2 <= stopped_at < MAX_STEPS
    parser = argparse.ArgumentParser()
    resume.register(parser.add_subparsers())
    args = parser.parse_args(["resume", run.id])
    assert args.func(args) == 0  # follows the job's log until it ends
    check_resumed(run, stopped_at)
    printed = capsys.readouterr().out
    assert f"resuming run {run.id}" in printed and f"step={MAX_STEPS} " in printed
    assert printed.rstrip().endswith(f"finished: finished after {MAX_STEPS} steps")


@pytest.mark.parametrize("where", ["mid-step", "mid-save"])
@pytest.mark.slow
def test_a_stop_that_interrupts_the_step_or_the_save_still_keeps_a_checkpoint(
    tiny_model_dir, long_pairs, monkeypatch, where
):
    """Stop interrupts a step that hasn't ended after ``execute.CLEAN_STOP_S`` (a real model, or a busy machine):
    the checkpoint of the last optimizer step is saved all the same, and the run resumes from it."""
    import transformers

    from rlhf_playground.jobs.callbacks import RunCallback
    from rlhf_playground.jobs.execute import interrupt_step

    def interrupt(run) -> None:  # what the job's stop watcher does when a step doesn't end in time
        run.request_stop()
        interrupt_step()

    if where == "mid-step":  # in step 3, before the callback gets to see the stop file
        substep_end = RunCallback.on_substep_end

        def on_substep_end(self, args, state, control, **kwargs):
            if state.global_step == 2:
                interrupt(self.run)
            return substep_end(self, args, state, control, **kwargs)

        monkeypatch.setattr(RunCallback, "on_substep_end", on_substep_end)
        overrides = {"save_steps": 100}
    else:  # while step 2's checkpoint is being written: the model is there, the optimizer and trainer state not
        save_rest = transformers.Trainer._save_optimizer_and_scheduler

        def save_optimizer_and_scheduler(self, output_dir):
            interrupt(open_run(list_runs()[0]["id"]))  # again on the saving after the stop: ignored there
            return save_rest(self, output_dir)

        monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", save_optimizer_and_scheduler)
        overrides = {"save_steps": 2}
    assert run_stage("sft", config(tiny_model_dir, long_pairs, max_length=64, **overrides), sft.run) == 0
    run = open_run(list_runs()[0]["id"])
    assert (run.status()["state"], run.status()["reason"]) == ("stopped", "stopped at step 2")
    assert run.latest_checkpoint() == run.checkpoints / "checkpoint-2", sorted(run.checkpoints.rglob("*"))
    monkeypatch.undo()  # the resumed job is a new process anyway
    assert runner.resume(run).path == run.path
    check_resumed(run, 2)


@pytest.mark.slow
def test_out_of_memory_mid_training_fails_readably_and_resumes(tiny_model_dir, long_pairs, monkeypatch):
    import torch

    from rlhf_playground.jobs.callbacks import RunCallback

    def run_out_of_memory(self, args, state, control, **kwargs):
        if state.global_step == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(RunCallback, "on_step_end", run_out_of_memory)
    assert run_stage("sft", config(tiny_model_dir, long_pairs, save_steps=2, max_length=64), sft.run) == 1
    run = open_run(list_runs()[0]["id"])
    status = run.status()
    assert status["state"] == "failed" and status["reason"].startswith("out of memory: OutOfMemoryError")
    assert "smaller batch size" in status["reason"]
    monkeypatch.undo()  # the resumed job is a new process anyway
    assert runner.resume(run).path == run.path
    check_resumed(run, 2)


def test_full_disk_while_saving_fails_readably(tiny_model_dir, long_pairs, monkeypatch):
    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sft, "save_adapter", no_space)
    assert run_stage("sft", config(tiny_model_dir, long_pairs, max_steps=1, max_length=64), sft.run) == 1
    status = open_run(list_runs()[0]["id"]).status()
    assert status["state"] == "failed" and status["reason"].startswith("disk full: OSError")
    assert "Free space under" in status["reason"]


def test_resume_refuses_what_it_cannot_resume():
    run = create_run("sft", SFTStageConfig(dataset="d"))
    with pytest.raises(UserError, match="is queued: only a failed or stopped run"):
        runner.resume(run)
    run.finish("failed", DIED)
    with pytest.raises(UserError, match="no checkpoint saved yet: start a new run"):
        runner.resume(run)
    ppo = create_run("ppo", SFTStageConfig(dataset="d"))
    ppo.finish("stopped", "stopped at step 3")
    with pytest.raises(UserError, match="ppo runs save no checkpoints"):
        runner.resume(ppo)


@pytest.mark.slow
def test_resume_button_relaunches_the_shown_run(tmp_path, tiny_model_dir, long_pairs):
    from gradio_client import Client
    from serve import running_app
    from test_ui_finetune import FIELDS

    workspace = tmp_path / "app-workspace"
    workspace.mkdir()
    with running_app(workspace) as url:
        c = Client(url, verbose=False)
        assert "No run to resume" in c.predict(api_name="/sft_resume")
        values = vars(config(tiny_model_dir, long_pairs, max_steps=5000))
        assert c.predict(*[values[name] for name in FIELDS], api_name="/sft_start")[0].startswith("Run **")
        run_dir = wait_for(lambda: next((workspace / "runs").glob("*-sft-*"), None), what="the run folder")
        run = open_run(run_dir)
        wait_for(lambda: run.status().get("step", 0) >= 1, timeout=600, what="a step")
        assert "is running: only a failed or stopped run" in c.predict(api_name="/sft_resume")
        assert "stopped" in c.predict(api_name="/sft_stop")
        assert run.latest_checkpoint(), f"Stop kept no checkpoint:\n{run.tail_log()}"
        stopped_at = checkpoint_step(run.latest_checkpoint())
        assert c.predict(api_name="/sft_resume") == f"Run **{run.id}** resumes from step {stopped_at}."
        wait_for(lambda: run.status().get("step", 0) > stopped_at, timeout=600, what="a step after the resume")
        assert "stopped" in c.predict(api_name="/sft_stop")
