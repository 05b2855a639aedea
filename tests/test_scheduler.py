"""The machine's job scheduler: slots from the hardware, fair turns, memory, estimates, limits, and what survives
a killed job or a restarted app."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from held_slot import slot_held_by
from test_jobs import job_config, pairs_file, wait_for  # noqa: F401

from rlhf_playground.jobs import queue, runner
from rlhf_playground.jobs.runs import Run, create_run
from rlhf_playground.jobs.slots import Machine, job_memory_mb, job_seconds, slot_count, threads_per_job
from rlhf_playground.stages.sft import SFTStageConfig
from rlhf_playground.workspace import session

GB = 1024


@pytest.fixture
def from_hardware(monkeypatch):
    monkeypatch.delenv("RLHF_JOB_SLOTS", raising=False)


def test_slots_come_from_the_cores_and_memory_and_the_host_can_set_them(from_hardware, monkeypatch):
    laptop = Machine(cores=2, ram_mb=24 * GB)
    workstation = Machine(cores=16, ram_mb=128 * GB)
    small_ram = Machine(cores=16, ram_mb=4 * GB)
    h200 = Machine(cores=16, ram_mb=128 * GB, gpu_mb=139 * GB)
    small_gpu = Machine(cores=16, ram_mb=128 * GB, gpu_mb=8 * GB)
    assert slot_count(laptop) == 1 and threads_per_job(laptop) == 2  # one job, all the cores
    assert slot_count(workstation) == 4 and threads_per_job(workstation) == 4  # 4 cores a job
    assert slot_count(small_ram) == 1  # the memory allows one job on the bundled model
    assert slot_count(h200) == 16  # a 135M job takes well under 2 GB of GPU memory: many run side by side
    assert slot_count(small_gpu) == 4
    assert job_memory_mb(517, "gpu") < 2 * GB
    monkeypatch.setenv("RLHF_JOB_SLOTS", "3")
    assert slot_count(laptop) == 3 and threads_per_job(laptop) == 1
    monkeypatch.setenv("RLHF_JOB_SLOTS", "1000")
    assert slot_count(laptop) == 16


def test_a_jobs_duration_comes_from_its_stage_and_steps():
    assert job_seconds("ppo", {"steps": 12}) == pytest.approx(20 + 132)
    assert job_seconds("sft", {"max_steps": 20}) == pytest.approx(20 + 77)
    assert job_seconds("reward", {"model": "minilm", "max_steps": 30}) < job_seconds("reward", {"max_steps": 30})
    assert job_seconds("sft", {"max_steps": -1}) > job_seconds("sft", {"max_steps": 20})  # epochs: unknown steps
    assert job_seconds("compare", {"n_prompts": 16, "tuned": "a,b"}) > job_seconds("compare", {"n_prompts": 16})
    assert [queue.about(s) for s in (10, 59, 61, 240, 3 * 3600)] == [
        "under a minute",
        "under a minute",
        "about 1 min",
        "about 4 min",
        "about 3.0 h",
    ]


def queued(name: str, steps: int = 20):
    """A run of session ``name`` waiting in line (no process yet: it is in line for its first seconds)."""
    with session(name):
        run = create_run("sft", SFTStageConfig(dataset="d", max_steps=steps))
        run.update_status(state="queued")
        return run


def test_the_line_takes_each_sessions_first_job_before_anyones_second():
    a1, a2, a3 = queued("a"), queued("a"), queued("a")
    b1, b2 = queued("b"), queued("b")
    c1 = queued("c")
    order = [entry.run.path for entry in queue._line()]
    assert order == [run.path for run in (a1, b1, c1, a2, b2, a3)]
    assert [queue.outlook(run).ahead for run in (a1, b1, c1, a2)] == [0, 1, 2, 3]


def test_the_line_is_on_disk_so_a_restarted_app_finds_it_in_the_same_order():
    runs = [queued("a"), queued("a"), queued("b")]
    probe = (
        "from rlhf_playground.jobs.queue import _line; import json; "
        "print(json.dumps([e.run.path.name for e in _line()]))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=dict(os.environ), timeout=300
    )
    assert json.loads(fresh.stdout) == [runs[0].path.name, runs[2].path.name, runs[1].path.name]


@pytest.fixture
def one_slot_busy(monkeypatch):
    """Another session's job trains in slot 0 with 2 min left; there are two slots and 4 GB for jobs."""
    monkeypatch.setenv("RLHF_JOB_SLOTS", "2")
    monkeypatch.setattr(queue, "this_machine", lambda: Machine(cores=8, ram_mb=5000))
    with session("someone else"):
        theirs = create_run("sft", SFTStageConfig(dataset="d", max_steps=20))
        theirs.update_status(state="running", pid=os.getpid(), memory_mb=3000, eta_s=120)
    with slot_held_by(theirs):
        yield theirs


def test_a_job_waits_for_memory_beside_the_running_ones_and_the_line_keeps_its_order(one_slot_busy):
    big, small = queued("you"), queued("me")
    big.update_status(memory_mb=2000)
    small.update_status(memory_mb=900)
    assert [run.id for run in queue.holders()] == [one_slot_busy.id]
    assert queue._memory_fits(small, queue.holders()) and not queue._memory_fits(big, queue.holders())
    assert queue.outlook(big).reason == "queued: next in line, waiting for memory to free up"
    assert queue.outlook(small).reason == "queued: 2 jobs ahead in line, about 2 min"  # no jumping the line


def test_the_estimate_adds_the_running_jobs_eta_and_the_jobs_ahead(one_slot_busy, monkeypatch):
    monkeypatch.setenv("RLHF_JOB_SLOTS", "1")
    first, second = queued("a", steps=20), queued("b", steps=20)
    assert queue.wait_s(first) == pytest.approx(120)
    assert queue.wait_s(second) == pytest.approx(120 + job_seconds("sft", {"max_steps": 20}))
    assert queue.outlook(second).reason == "queued: 2 jobs ahead in line, about 4 min"


def test_the_line_reads_a_jobs_expected_time_from_its_status_not_its_config(one_slot_busy, monkeypatch):
    """Each waiting job reads the line every second or two: with a room's worth queued, reading every queued run's
    config each time was most of the line's cost."""
    monkeypatch.setenv("RLHF_JOB_SLOTS", "1")
    first, second = queued("a", steps=20), queued("b", steps=20)
    first.update_status(expected_s=300)
    one_slot_busy.update_status(eta_s=None, started=time.time() - 10, expected_s=100)
    monkeypatch.setattr(Run, "config", lambda run: pytest.fail(f"{run.id}'s config was read"))
    assert queue.wait_s(second) == pytest.approx(90 + 300, abs=2)


def test_start_notes_the_jobs_expected_time_in_its_status(tiny_model_dir, pairs_file, monkeypatch):
    monkeypatch.setattr(runner, "_spawn", lambda *args, **kwargs: None)  # no process
    run = start_in("a", job_config(tiny_model_dir, pairs_file, 7))
    assert run.status()["expected_s"] == pytest.approx(job_seconds("sft", {"max_steps": 7}))


def start_in(name: str, config):
    with session(name):
        return runner.start("sft", config)


def fake_jobs(monkeypatch, journal, ready: bool = True):
    """Job processes that note in ``journal`` when they start and (with ``ready``) when their start-up is over,
    saying so as a real job does (they write their status), then sleep."""
    script = (
        "import pathlib, sys, time\n"
        "journal, name, status = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])\n"
        "with journal.open('a') as f: f.write(f'start {name}\\n')\n"
        "time.sleep(0.3)\n"
        "if sys.argv[4] == 'ready':\n"
        "    with journal.open('a') as f: f.write(f'ready {name}\\n')\n"
        "    status.write_text(status.read_text())\n"
        "time.sleep(120)\n"
    )
    command = lambda stage, run: [  # noqa: E731
        sys.executable,
        "-c",
        script,
        str(journal),
        run.id,
        str(run.path / "status.json"),
        "ready" if ready else "no",
    ]
    monkeypatch.setattr(runner, "job_command", command)
    monkeypatch.setattr(runner, "STARTUP_WAIT_S", 600.0)


def launched(stage: str = "sft"):
    return runner._launch(stage, create_run(stage, SFTStageConfig(model="tiny", dataset="d")))


def test_a_job_the_app_starts_runs_lower_from_its_first_instruction(monkeypatch, tmp_path):
    """Not only once it trains: 30 jobs starting and waiting their turn at once slowed a room's Start clicks."""
    monkeypatch.setenv("RLHF_JOB_NICENESS", "5")
    journal = tmp_path / "journal"
    fake_jobs(monkeypatch, journal)
    started = {}
    for stage in ("sft", "demo"):  # the demo is watched live: it keeps the app's priority
        run = launched(stage)
        job = psutil.Process(wait_for(lambda: run.status().get("pid"), what=f"the {stage} job's process"))
        # Popen returns once exec is past its point of no return, a moment before the kernel sets up the new
        # program's environment (/proc/PID/environ reads empty until then): wait for the job's first line.
        wait_for(lambda: journal.exists() and run.id in journal.read_text(), what=f"the {stage} job to run")
        started[stage] = job.nice(), job.environ().get("RLHF_JOB_NICENESS")
        job.kill()
    own = psutil.Process().nice()
    assert started["sft"] == (min(19, own + 5), "0")  # ...and it needn't lower itself again
    assert started["demo"] == (own, "5")


def test_queued_jobs_processes_start_one_after_another(monkeypatch, tmp_path):
    """Each once the one before has started up, so a room's thirty don't start up all at once."""
    journal = tmp_path / "journal"
    fake_jobs(monkeypatch, journal)
    runs = [launched() for _ in range(3)]
    try:
        wait_for(lambda: journal.exists() and journal.read_text().count("ready") == 3, what="three jobs to start")
        assert journal.read_text().split() == [w for run in runs for w in ("start", run.id, "ready", run.id)]
    finally:
        for run in runs:
            psutil.Process(run.status()["pid"]).kill()


def test_a_run_stopped_before_its_process_started_never_gets_one(monkeypatch, tmp_path):
    journal = tmp_path / "journal"
    fake_jobs(monkeypatch, journal, ready=False)  # they never say they have started up: the starter waits
    first, second = launched(), launched()
    wait_for(lambda: journal.exists() and f"start {first.id}" in journal.read_text(), what="the first job")
    assert runner.stop(second)["reason"] == "stopped before it started"
    third = launched()
    first.update_status(reason="waiting")  # the first has started up: the starter moves on...
    try:
        wait_for(lambda: third.status().get("pid"), what="the third job's process")
        assert not second.status()["pid"] and second.id not in journal.read_text()  # ...past the stopped one
    finally:
        for run in (first, third):
            psutil.Process(run.status()["pid"]).kill()


@pytest.mark.slow
def test_jobs_share_the_slots_a_killed_job_frees_its_slot_at_once_and_jobs_yield_the_cpu(
    tiny_model_dir, pairs_file, monkeypatch
):
    monkeypatch.setenv("RLHF_JOB_SLOTS", "2")
    monkeypatch.setenv("RLHF_JOB_NICENESS", "5")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    long = job_config(tiny_model_dir, pairs_file, 100_000)
    first, second, third = start_in("a", long), start_in("b", long), start_in("c", long)
    try:
        wait_for(
            lambda: first.status()["state"] == second.status()["state"] == "running",
            what="two jobs to train side by side",
        )
        wait_for(lambda: "queued: 2 jobs ahead in line" in third.tail_log(), what="the third job to wait its turn")
        job = psutil.Process(first.status()["pid"])
        assert job.nice() == psutil.Process().nice() + 5
        threads = max(1, len(os.sched_getaffinity(0)) // 2)
        assert f"OMP_NUM_THREADS={threads}".encode() in open(f"/proc/{job.pid}/environ", "rb").read().split(b"\0")
        os.kill(job.pid, signal.SIGKILL)
        wait_for(lambda: third.status()["state"] == "running", what="the killed job's slot to go to the third")
        assert first.status()["state"] == "failed"
    finally:
        for run in (first, second, third):
            runner.stop(run)
    wait_for(lambda: all(run.status()["state"] not in ("queued", "running") for run in (second, third)), what="stop")


@pytest.mark.slow
def test_the_host_sets_the_longest_job_and_a_job_past_it_stops_and_says_why(tiny_model_dir, pairs_file, monkeypatch):
    monkeypatch.setenv("RLHF_MAX_JOB_MINUTES", "0.01")
    run = runner.start("sft", job_config(tiny_model_dir, pairs_file, 100_000))
    wait_for(lambda: run.status()["state"] not in ("queued", "running"), what="the job to stop at the limit")
    status = run.status()
    assert status["state"] == "stopped"
    assert status["reason"].endswith(": the longest a job may run here is 0.01 min"), status["reason"]


def test_a_run_whose_folder_goes_away_before_its_process_starts_holds_up_nobody(monkeypatch, tmp_path):
    """Its session swept while it waited: the starter skips it and starts the next (it used to die with it)."""
    import shutil
    import threading

    fake_jobs(monkeypatch, tmp_path / "journal")
    spawn, both_queued = runner._spawn, threading.Event()
    gone = create_run("sft", SFTStageConfig(model="tiny", dataset="d"))

    def swept_first(run, *args):
        if run.id == gone.id:  # the starter has read its status; its log isn't open yet
            both_queued.wait(60)
            shutil.rmtree(run.path)
        return spawn(run, *args)

    monkeypatch.setattr(runner, "_spawn", swept_first)
    runner._launch("sft", gone)
    after = launched()  # queued behind it while the starter is busy with it: no later Start wakes the line
    both_queued.set()
    try:
        wait_for(lambda: after.status().get("pid"), what="the next job's process")
    finally:
        psutil.Process(after.status()["pid"]).kill()
