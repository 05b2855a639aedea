"""The job system: run folders, failure reasons, interrupting, and real detached jobs (start, stop, queue, kill)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from rlhf_playground.jobs import runner
from rlhf_playground.jobs.execute import describe_failure, interrupt_step, interruptible
from rlhf_playground.jobs.runs import DIED, create_run, list_runs
from rlhf_playground.stages.sft import SFTStageConfig


def wait_for(check, timeout: float = 300.0, what: str = "condition"):
    """Poll ``check`` until it gives something true; the limit is generous: tests wait for outcomes, not speed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(json.dumps({"prompt": f"hello {i}", "completion": " the quick brown fox"}) + "\n" for i in range(16))
    )
    return path


def job_config(model, dataset, max_steps: int) -> SFTStageConfig:
    return SFTStageConfig(
        model=str(model),
        dataset=str(dataset),
        max_steps=max_steps,
        batch_size=2,
        max_length=32,
        eval_prompts=1,
        max_new_tokens=4,
        load_in_4bit=False,
    )


# ------------------------------------------------------------------ run folders (no processes)
def test_run_folder_holds_config_status_metrics_and_log():
    run = create_run("sft", SFTStageConfig(dataset="d", lora_r=8))
    assert run.config()["lora_r"] == 8
    assert run.status()["state"] == "queued" and run.status()["stage"] == "sft"
    run.append_metrics({"step": 1, "loss": 2.0})
    with open(run.path / "metrics.jsonl", "a") as f:
        f.write('{"step": 2, "lo')  # a line still being written
    assert run.metrics() == [{"step": 1, "loss": 2.0}]
    for i in range(50):
        run.log(f"line {i}")
    assert run.tail_log(2) == "line 48\nline 49"
    assert not run.stop_requested()
    run.request_stop()
    assert run.stop_requested()

    other = create_run("reward", SFTStageConfig(dataset="d"))
    assert [r["id"] for r in list_runs()] == [other.id, run.id]
    assert [r["id"] for r in list_runs("sft")] == [run.id]
    assert list_runs("sft")[0]["last_loss"] == 2.0


def test_first_terminal_state_wins():
    run = create_run("sft", SFTStageConfig(dataset="d"))
    run.finish("stopped", "stopped at step 3")
    run.finish("failed", DIED)
    assert run.status()["state"] == "stopped"


def test_running_status_with_a_dead_process_reads_as_failed():
    gone = subprocess.Popen(["true"])
    gone.wait()
    run = create_run("sft", SFTStageConfig(dataset="d"))
    run.update_status(state="running", pid=gone.pid)
    status = run.status()
    assert (status["state"], status["reason"]) == ("failed", DIED)
    assert json.loads((run.path / "status.json").read_text())["state"] == "failed"


def test_artifact_folder_appears_only_when_complete():
    run = create_run("sft", SFTStageConfig(dataset="d"))
    with pytest.raises(RuntimeError):
        with run.artifact_dir("adapter") as tmp:
            (tmp / "half.bin").write_bytes(b"x")
            raise RuntimeError("crash while saving")
    assert list(run.artifacts.iterdir()) == []
    with run.artifact_dir("adapter") as tmp:
        (tmp / "whole.bin").write_bytes(b"x")
    assert [p.name for p in run.artifacts.iterdir()] == ["adapter"]


def test_failures_are_named_in_one_line():
    assert describe_failure(MemoryError()).startswith("out of memory: MemoryError")
    assert describe_failure(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB\nmore")).startswith(
        "out of memory: RuntimeError: CUDA out of memory. Tried to allocate 2 GiB."
    )
    assert describe_failure(OSError(errno.ENOSPC, "No space left on device")).startswith("disk full:")
    assert describe_failure(ValueError("bad\nthing")) == "ValueError: bad"


def test_an_interrupt_from_another_thread_ends_a_long_step():
    run = create_run("sft", SFTStageConfig(dataset="d"))
    threading.Timer(0.3, interrupt_step).start()
    began, step_ran_out = time.monotonic(), False
    with interruptible(run):
        while time.monotonic() - began < 600:  # a "step" far longer than a stop may take
            time.sleep(0.01)
        step_ran_out = True
    assert not step_ran_out and run.stop_requested()  # the interrupt ended the step, not the step its own end
    interrupt_step()  # outside a block it is ignored
    time.sleep(0.05)
    with pytest.raises(KeyboardInterrupt):  # while Ctrl-C (a SIGINT of nobody's asking) stays Ctrl-C
        signal.raise_signal(signal.SIGINT)
        time.sleep(0.05)


def test_queued_run_waits_for_the_lock_and_leaves_when_stopped():
    from held_slot import slot_held_by

    from rlhf_playground.jobs.queue import _holder_path, wait_for_turn
    from rlhf_playground.workspace import root_dir

    holder = create_run("sft", SFTStageConfig(dataset="d"))
    holder.update_status(state="running", pid=os.getpid())
    with slot_held_by(holder):
        waiting = create_run("sft", SFTStageConfig(dataset="d"))
        threading.Timer(0.5, waiting.request_stop).start()
        assert wait_for_turn(waiting, poll_s=0.05) is None
        assert waiting.status()["reason"].startswith(f"queued: waiting for run {holder.id}, ")
        waiting.finish("stopped", "stopped while queued")
    mine = create_run("sft", SFTStageConfig(dataset="d"))
    taken = wait_for_turn(mine)
    assert taken is not None
    with taken:  # while it trains the slot names the run, relative to the root (no absolute path)
        assert _holder_path(0).read_text() == str(mine.path.relative_to(root_dir()))
    assert _holder_path(0).read_text() == ""  # and nothing is left to say who held it
    assert not _holder_path(0).is_relative_to(root_dir() / "runs")


# ------------------------------------------------------------------ detached jobs
@pytest.mark.slow
def test_stop_ends_a_job_and_keeps_the_adapter(tiny_model_dir, pairs_file):
    from rlhf_playground.jobs.runs import process_alive

    run = runner.start("sft", job_config(tiny_model_dir, pairs_file, max_steps=100_000))
    wait_for(lambda: run.status().get("step", 0) >= 2, what="training steps")
    status = runner.stop(run)
    assert not process_alive(status["pid"], status.get("pid_start"))  # gone when Stop returns (at most ~5 s)
    assert status["state"] == "stopped", status
    assert (run.artifacts / "adapter" / "adapter_model.safetensors").is_file()
    assert run.metrics() and "loss" in run.metrics()[0]


@pytest.mark.slow
def test_second_job_waits_in_the_queue_then_runs(tiny_model_dir, pairs_file):
    first = runner.start("sft", job_config(tiny_model_dir, pairs_file, max_steps=100_000))
    wait_for(lambda: first.status()["state"] == "running", what="first job running")
    second = runner.start("sft", job_config(tiny_model_dir, pairs_file, max_steps=2))
    wait_for(lambda: "queued: waiting for run" in second.tail_log(), what="second job's process to queue")
    status = second.status()
    assert status["state"] == "queued" and status["reason"].startswith(f"queued: waiting for run {first.id}, about")
    runner.stop(first)
    wait_for(lambda: second.status()["state"] not in ("queued", "running"), what="second job to end")
    assert second.status()["state"] == "finished", second.tail_log()
    assert "kernels-community" not in second.log_path.read_text()  # a harmless bitsandbytes notice stays out of the log


def test_killed_job_shows_as_failed(tiny_model_dir, pairs_file):
    run = runner.start("sft", job_config(tiny_model_dir, pairs_file, max_steps=100_000))
    pid = wait_for(lambda: run.status().get("step", 0) >= 1 and run.status()["pid"], what="training")
    os.kill(pid, signal.SIGKILL)
    status = wait_for(lambda: run.status()["state"] != "running" and run.status(), what="failed status")
    assert (status["state"], status["reason"]) == ("failed", DIED)
    assert not (run.artifacts / "adapter").exists()
