"""What one person may ask of a shared app, and what the server keeps of them: caps, job limits,
scorer caches, session folders, draft tables, the queue's words, and a full disk."""

from __future__ import annotations

import errno
import os
import time

import pytest
from test_jobs import job_config, pairs_file, wait_for  # noqa: F401

from rlhf_playground.errors import UserError
from rlhf_playground.jobs import runner
from rlhf_playground.jobs.runs import create_run, list_runs, open_run
from rlhf_playground.stages.ppo import PPOStageConfig
from rlhf_playground.stages.sft import SFTStageConfig
from rlhf_playground.workspace import root_dir, session


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("RLHF_HOSTED", "1")


def active(run):
    run.update_status(state="running", pid=os.getpid())
    return run


# ------------------------------------------------------------------ caps the host sets
def test_hosted_caps_refuse_big_asks_and_the_host_can_move_them(hosted, monkeypatch):
    with session("a"):
        with pytest.raises(UserError, match=r"steps 100000 is more than this shared app allows \(200\)"):
            runner.start("ppo", PPOStageConfig(dataset="prompts", steps=100_000))
        with pytest.raises(UserError, match="max_new_tokens 1e\\+06 is more than .*RLHF_MAX_NEW_TOKENS"):
            runner.start("ppo", PPOStageConfig(dataset="prompts", max_new_tokens=1_000_000))
        monkeypatch.setenv("RLHF_MAX_STEPS", "5")
        with pytest.raises(UserError, match=r"steps 6 is more than this shared app allows \(5\)"):
            runner.start("ppo", PPOStageConfig(dataset="prompts", steps=6))
        assert list_runs() == []  # refused before any run folder was made


def test_caps_apply_only_when_hosted():
    from rlhf_playground.hosting import check_caps

    check_caps(PPOStageConfig(dataset="prompts", steps=100_000, max_new_tokens=1_000_000))


def test_try_models_generation_length_is_capped_in_the_server_process(hosted):
    from rlhf_playground.evaluation.explore import generate_text

    with pytest.raises(UserError, match="max_new_tokens 2000 is more than this shared app allows"):
        generate_text("default", "hi", max_new_tokens=2000)


def test_a_model_bigger_than_the_host_allows_is_refused(hosted, monkeypatch):
    from rlhf_playground.models import check_model_size

    with session("a") as mine:
        model = mine / "big-model"
        model.mkdir()
        (model / "config.json").write_text("{}")
        (model / "model.safetensors").write_bytes(b"\0" * 3 * 2**20)
        check_model_size(str(model))  # 3 MB is fine by default
        monkeypatch.setenv("RLHF_MAX_MODEL_MB", "2")
        with pytest.raises(UserError, match="has 3 MB of weights, more than this shared app allows"):
            check_model_size(str(model))


# ------------------------------------------------------------------ jobs per person
def test_one_running_and_one_queued_job_per_session(hosted):
    with session("a"):
        active(create_run("sft", SFTStageConfig(dataset="d")))
        active(create_run("sft", SFTStageConfig(dataset="d"))).update_status(state="queued")
        with pytest.raises(UserError, match="You already have 2 jobs running or waiting"):
            runner.start("ppo", PPOStageConfig(dataset="prompts"))
        with pytest.raises(UserError) as refused:
            runner.start("ppo", PPOStageConfig(dataset="no-such-dataset"), child=True)
        assert "You already have" not in str(refused.value)  # the demo's own stages don't count
    with session("b"):
        runner.check_job_limit()  # someone else's jobs are not yours


# ------------------------------------------------------------------ caches and leftovers
def test_scorers_are_cached_per_session(hosted, monkeypatch):
    from rlhf_playground.rewards import scorers
    from rlhf_playground.workspace import workspace_dir

    made = []
    monkeypatch.setattr(scorers, "make_scorer", lambda spec: made.append((spec, workspace_dir())) or object())
    scorers._cached_scorer.cache_clear()
    with session("a") as a:
        first = scorers.cached_scorer("reward:run-1")
        assert scorers.cached_scorer("reward:run-1") is first  # a hit in the same session
    with session("b") as b:
        assert scorers.cached_scorer("reward:run-1") is not first  # never another session's model
    assert made == [("reward:run-1", a), ("reward:run-1", b)]
    scorers._cached_scorer.cache_clear()


def test_expired_and_empty_sessions_are_swept_but_busy_ones_stay(monkeypatch):
    from rlhf_playground.jobs.cleanup import EMPTY_GRACE_S, sweep_sessions

    def visit(secret: str, saved: bool) -> str:
        with session(secret) as folder:
            if saved:
                (folder / "datasets" / "mine").mkdir(parents=True)
                (folder / "datasets" / "mine" / "data.jsonl").write_text("{}\n")
            (folder / "runs").mkdir(exist_ok=True)
            return folder.name

    now = time.time()
    old, empty, fresh, recent, busy = (
        visit("old", True),
        visit("empty", False),
        visit("fresh", False),
        visit("recent", True),
        visit("busy", True),
    )
    with session("busy"):
        active(create_run("sft", SFTStageConfig(dataset="d")))
    sessions = root_dir() / "sessions"
    for name, age in ((old, 8 * 86_400), (empty, EMPTY_GRACE_S + 60), (busy, 30 * 86_400), (recent, 86_400)):
        for path in [sessions / name, *(sessions / name).rglob("*")]:
            os.utime(path, (now - age, now - age))
    assert sorted(sweep_sessions(now)) == sorted([old, empty])
    assert sorted(p.name for p in sessions.iterdir()) == sorted([fresh, recent, busy])
    monkeypatch.setenv("RLHF_SESSION_DAYS", "0.5")  # the host keeps sessions half a day
    assert sweep_sessions(now) == [recent]


def test_the_data_tab_keeps_a_draft_path_in_the_page_state_not_the_rows():
    from rlhf_playground.ui import data_tab

    loaded = data_tab.load("Bundled sample", "prompts", None, "", "", "train", 50)[0]
    assert isinstance(loaded, str) and os.path.getsize(loaded) > 0 and "/.drafts/" in loaded
    prepared = data_tab.prepare(loaded, "(auto)", "", "")[0]
    assert isinstance(prepared, str) and prepared != loaded
    again = data_tab.prepare(loaded, "(auto)", "", "", prepared)[0]
    assert not os.path.exists(prepared) and os.path.exists(again)  # a new result replaces the old draft
    assert "Saved **p**" in data_tab.save(again, "p")[0]
    reloaded = data_tab.load("Bundled sample", "reviews", None, "", "", "train", 50, loaded)[0]
    assert not os.path.exists(loaded) and os.path.exists(reloaded)
    assert data_tab.prepare("/etc/passwd", "(auto)", "", "")[1].startswith("**⚠️ Load a dataset first")


# ------------------------------------------------------------------ the queue's words
@pytest.fixture
def machine_busy():
    """Another session's job holds the machine (the lock is held and names it)."""
    from held_slot import slot_held_by

    with session("someone else"):
        theirs = active(create_run("sft", SFTStageConfig(dataset="d")))
    with slot_held_by(theirs):
        yield theirs


def test_a_job_behind_another_says_queued_not_started(machine_busy, tiny_model_dir, pairs_file, monkeypatch):
    from types import SimpleNamespace

    from rlhf_playground.jobs import queue
    from rlhf_playground.ui.monitor import RunMonitor

    reads = []
    monkeypatch.setattr(queue, "_line", lambda line=queue._line: reads.append(1) or line())
    run_id, message = RunMonitor.start(SimpleNamespace(stage="sft"), job_config(tiny_model_dir, pairs_file, 2))
    assert message.startswith(f"Run **{run_id}** is queued (1 ahead); it starts in ")
    assert message.endswith(("under a minute.", " min."))
    assert len(reads) == 1  # the line (every queued run's status) is read once per Start
    assert open_run(run_id).status()["reason"].startswith("queued: 1 job ahead in line, ")
    runner.stop(open_run(run_id))


def test_a_queued_job_holds_nothing_heavy_and_stops_without_claiming_lost_work(
    machine_busy, tiny_model_dir, pairs_file, monkeypatch
):
    run = runner.start("sft", job_config(tiny_model_dir, pairs_file, 2))
    wait_for(lambda: "queued: 1 job ahead" in run.tail_log(), timeout=300, what="the job to wait in line")
    pid = run.status()["pid"]
    maps = open(f"/proc/{pid}/maps").read()
    assert "torch" not in maps and "transformers" not in maps  # waiting costs no model libraries
    monkeypatch.setattr(runner, "STOP_TIMEOUT_S", 0.0)  # as if it were still starting up: killed at once
    status = runner.stop(run)
    assert status["state"] == "stopped" and "nothing from the unfinished part" not in status["reason"]


# ------------------------------------------------------------------ a full disk
def test_a_full_disk_during_a_checkpoint_save_is_named_and_leaves_no_half_checkpoint(
    tiny_model_dir, pairs_file, monkeypatch
):
    from rlhf_playground.jobs.execute import run_stage
    from rlhf_playground.stages import sft

    def full(run, *args):
        half = run.checkpoints / "checkpoint-1"
        half.mkdir(parents=True)
        (half / "model.safetensors").write_bytes(b"half")
        raise Exception(
            'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })'
        )  # what safetensors raises

    monkeypatch.setattr(sft, "save_adapter", full)
    assert run_stage("sft", job_config(tiny_model_dir, pairs_file, 1), sft.run) == 1
    run = open_run(list_runs()[0]["id"])
    assert run.status()["reason"].startswith("disk full: Exception")
    assert not (run.checkpoints / "checkpoint-1").exists()


def test_runs_still_list_when_the_disk_is_full(monkeypatch):
    from rlhf_playground.jobs import runs

    dead = create_run("sft", SFTStageConfig(dataset="d"))
    dead.update_status(state="running", pid=2**22 + 12345)  # no such process: its status must say failed

    def no_space(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runs, "write_json_atomic", no_space)
    assert [(r["id"], r["state"]) for r in list_runs()] == [(dead.id, "failed")]


def test_a_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    from rlhf_playground.jobs.runs import write_json_atomic

    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError):
        write_json_atomic(tmp_path / "status.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_a_refused_command_leaves_no_run_folder(tmp_path):
    from rlhf_playground.cli import main

    assert main(["sft", "--dataset", str(tmp_path / "missing.jsonl")]) == 2
    assert list_runs() == []
