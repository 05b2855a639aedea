"""Hosted mode (a Space, or ``app.py --hosted``): private workspaces, no local paths, one shared job line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gradio_client import Client

from rlhf_playground.errors import UserError
from rlhf_playground.workspace import root_dir, session, workspace_dir
from serve import running_app


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("RLHF_HOSTED", "1")


def test_sessions_get_separate_workspaces_inside_the_root():
    with session("secret-a") as a, session("secret-a") as again:
        assert a == again == workspace_dir()
    with session("secret-b") as b:
        assert b != a and b.parent == a.parent == root_dir() / "sessions"
        assert "secret" not in b.name  # the folder name doesn't give the secret away
    assert workspace_dir() == root_dir()


def test_local_paths_are_refused_only_when_hosted(hosted, tmp_path, tiny_model_dir, monkeypatch):
    from rlhf_playground.data import load_source
    from rlhf_playground.models import resolve
    from rlhf_playground.stages.sft import read_rows

    outside = tmp_path / "elsewhere" / "rows.jsonl"
    outside.parent.mkdir()
    outside.write_text('{"prompt": "hi"}\n')
    with session("a") as mine:
        for attempt in (lambda: load_source(str(outside)), lambda: read_rows(str(outside)),
                        lambda: resolve(str(tiny_model_dir))):
            with pytest.raises(UserError, match="hosted app"):
                attempt()
        inside = mine / "rows.jsonl"
        inside.write_text(outside.read_text())
        assert read_rows(str(inside)) == [{"prompt": "hi"}]
        assert load_source("prompts").rows  # bundled samples stay usable
    monkeypatch.delenv("RLHF_HOSTED")
    assert read_rows(str(outside)) == [{"prompt": "hi"}]


def test_jobs_of_all_sessions_share_one_line_and_name_only_your_own_runs(hosted):
    import fcntl

    from rlhf_playground.jobs.queue import _lock_path, waiting_reason
    from rlhf_playground.jobs.runs import create_run
    from rlhf_playground.stages.sft import SFTStageConfig

    with session("a"):
        theirs = create_run("sft", SFTStageConfig(dataset="d"))
        theirs.update_status(state="running", pid=os.getpid())
        queued_a = create_run("sft", SFTStageConfig(dataset="d"))
        queued_a.update_status(state="queued", pid=os.getpid())
    with open(_lock_path(), "w") as lock:
        lock.write(str(theirs.path))
        lock.flush()
        fcntl.flock(lock, fcntl.LOCK_EX)
        with session("b"):
            mine = create_run("sft", SFTStageConfig(dataset="d"))
            reason = waiting_reason(mine)
            assert reason == "queued: 2 jobs ahead in line" and theirs.id not in reason
        with session("a"):
            assert waiting_reason(queued_a) == f"queued: waiting for run {theirs.id}"


@pytest.fixture(scope="module")
def hosted_app(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("hosted") / "workspace"
    workspace.mkdir()
    with running_app(workspace, RLHF_HOSTED="1") as url:
        yield url, workspace


def save_sample(client: Client, name: str) -> str:
    client.predict("Bundled sample", "prompts", None, "", "", "train", 50, api_name="/load_data")
    client.predict("(auto)", "", "", api_name="/prepare_data")
    status, _, _ = client.predict(name, api_name="/save_data")
    return status


def test_two_browsers_never_see_each_others_datasets(hosted_app, tmp_path):
    url, workspace = hosted_app
    alice = Client(url, verbose=False, headers={"Cookie": "rlhf_session=" + "a" * 48})
    bob = Client(url, verbose=False, headers={"Cookie": "rlhf_session=" + "b" * 48})
    assert "Saved **alice-prompts**" in save_sample(alice, "alice-prompts")
    assert "Saved **bob-prompts**" in save_sample(bob, "bob-prompts")
    sessions = sorted((workspace / "sessions").iterdir())
    saved = {s.name: sorted(p.name for p in (s / "datasets").iterdir()) for s in sessions if (s / "datasets").exists()}
    assert sorted(saved.values()) == [["alice-prompts"], ["bob-prompts"]]
    assert not (workspace / "datasets").exists() or not any((workspace / "datasets").iterdir())
    # the same cookie after a reload (a new client) finds the same workspace: saving again says it exists
    alice_again = Client(url, verbose=False, headers={"Cookie": "rlhf_session=" + "a" * 48})
    assert "already" in save_sample(alice_again, "alice-prompts")
    # a server path typed as a dataset name is not read
    secret = tmp_path / "server-file.jsonl"
    secret.write_text(json.dumps({"prompt": "private"}) + "\n")
    shown = alice.predict("Hugging Face Hub", "prompts", None, str(secret), "", "train", 50, api_name="/load_data")
    assert shown[0].startswith("**⚠️") and "private" not in json.dumps(shown)


def test_files_of_another_browser_cannot_be_picked(hosted_app):
    url, workspace = hosted_app
    carol = Client(url, verbose=False, headers={"Cookie": "rlhf_session=" + "c" * 48})
    from rlhf_playground.compare import CompareConfig
    from rlhf_playground.ui.compare_tab import GROUPS

    stolen = sorted(Path(workspace / "sessions").glob("*/datasets/*"))[0]
    values = {**vars(CompareConfig()), "dataset": str(stolen / "data.jsonl")}
    message = carol.predict(*[values[name] for _, names in GROUPS for name in names], api_name="/compare_start")
    assert message.startswith("**⚠️") and "hosted app" in message
