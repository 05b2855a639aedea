"""Hosted mode (a Space, or ``app.py --hosted``): private workspaces, no local paths, one shared job line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gradio_client import Client
from serve import running_app

from rlhf_playground.errors import UserError
from rlhf_playground.workspace import root_dir, session, workspace_dir


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
    from rlhf_playground.data.prompts import read_rows
    from rlhf_playground.models import resolve

    outside = tmp_path / "elsewhere" / "rows.jsonl"
    outside.parent.mkdir()
    outside.write_text('{"prompt": "hi"}\n')
    with session("a") as mine:
        for attempt in (
            lambda: load_source(str(outside)),
            lambda: read_rows(str(outside)),
            lambda: resolve(str(tiny_model_dir)),
        ):
            with pytest.raises(UserError, match="hosted app"):
                attempt()
        inside = mine / "rows.jsonl"
        inside.write_text(outside.read_text())
        assert read_rows(str(inside)) == [{"prompt": "hi"}]
        assert load_source("prompts").rows  # bundled samples stay usable
    monkeypatch.delenv("RLHF_HOSTED")
    assert read_rows(str(outside)) == [{"prompt": "hi"}]


def test_jobs_of_all_sessions_share_one_line_take_turns_and_name_only_your_own_runs(hosted):
    from held_slot import slot_held_by

    from rlhf_playground.jobs.queue import outlook
    from rlhf_playground.jobs.runs import create_run
    from rlhf_playground.stages.sft import SFTStageConfig

    with session("a"):
        theirs = create_run("sft", SFTStageConfig(dataset="d"))
        theirs.update_status(state="running", pid=os.getpid())
        queued_a = create_run("sft", SFTStageConfig(dataset="d"))
        queued_a.update_status(state="queued", pid=os.getpid())
    with slot_held_by(theirs):
        with session("b"):
            mine = create_run("sft", SFTStageConfig(dataset="d"))
            reason = outlook(mine).reason  # b's first job goes before a's second, though a queued it earlier
            assert reason.startswith("queued: 1 job ahead in line, ") and theirs.id not in reason
        with session("a"):
            assert outlook(queued_a).reason.startswith(f"queued: waiting for run {theirs.id} and 1 queued before it")


SLOW_REGEX_S = 30  # the app's time limit per regex match here: the hostile regex takes this long to refuse


@pytest.fixture(scope="module")
def hosted_app(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("hosted") / "workspace"
    workspace.mkdir()
    # the host's own token is set, as on a Space with an HF_TOKEN secret: no stranger may push with it
    env = {"RLHF_HOSTED": "1", "RLHF_REGEX_SECONDS": str(SLOW_REGEX_S), "HF_TOKEN": "hf_the_hosts_own"}
    with running_app(workspace, **env) as url:
        yield url, workspace


def cookie(letter: str) -> dict:
    return {"Cookie": "rlhf_session=" + letter * 48}


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


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


def test_sharing_needs_your_own_sign_in_and_downloads_reach_only_your_own_runs(hosted_app):
    url, _ = hosted_app
    dora = Client(url, verbose=False, headers=cookie("g"), download_files=False)
    assert "Saved **dora-data**" in save_sample(dora, "dora-data")
    for who in (dora, Client(url, verbose=False, headers=cookie("h")), Client(url, verbose=False)):
        refused = who.predict("dora-data", "someone/dora-data", True, api_name="/share_data")
        assert refused.startswith("**⚠️") and "Sign in with Hugging Face" in refused
        assert who.predict(api_name="/sft_download") == (None, "No run to download yet.")


def test_files_of_another_browser_cannot_be_picked(hosted_app):
    url, workspace = hosted_app
    carol = Client(url, verbose=False, headers={"Cookie": "rlhf_session=" + "c" * 48})
    from rlhf_playground.evaluation.compare import CompareConfig
    from rlhf_playground.ui.compare_tab import GROUPS

    stolen = sorted(Path(workspace / "sessions").glob("*/datasets/*"))[0]
    values = {**vars(CompareConfig()), "dataset": str(stolen / "data.jsonl")}
    message = carol.predict(*[values[name] for _, names in GROUPS for name in names], api_name="/compare_start")[0]
    assert message.startswith("**⚠️") and "hosted app" in message


def fake_run(folder: Path) -> Path:
    """A finished run's files as a job leaves them, with its own absolute path in the log."""
    run = folder / "runs" / "20260101-000000-sft-abcd"
    (run / "artifacts" / "adapter").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "alice-secret", "model": "default"}))
    (run / "status.json").write_text(json.dumps({"state": "finished", "stage": "sft", "created": 1.0}))
    (run / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    (run / "log.txt").write_text(f"run folder: {run}\nfinished — artifacts in {run / 'artifacts'}\n")
    (run / "artifacts" / "adapter" / "adapter_model.safetensors").write_bytes(b"alice-weights")
    return run


def test_nobody_without_your_cookie_reads_a_byte_of_your_files(hosted_app):
    """Session A saves a dataset (and has a run); B and a client without a cookie try every file route."""
    url, workspace = hosted_app
    alice = Client(url, verbose=False, headers=cookie("d"), download_files=False)
    alice.predict("Bundled sample", "preference-chat", None, "", "", "train", 50, api_name="/load_data")
    alice.predict("(auto)", "", "", api_name="/prepare_data")
    status, download, _ = alice.predict("alice-secret", api_name="/save_data")
    assert "Saved **alice-secret**" in status
    mine = next(p for p in (workspace / "sessions").iterdir() if (p / "datasets" / "alice-secret").is_dir())
    fake_run(mine)
    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert any(p.name == "data.jsonl" for p in files) and any(p.name == "log.txt" for p in files)
    assert not any(p.name.endswith(".lock") and "runs" in p.parts for p in files)  # the job line's books
    assert status.count("/") == 0  # no server path in what the page shows

    # the download link works for alice, with her cookie
    assert fetch(download["url"], cookie("d")) == (
        200,
        (mine / "datasets" / "alice-secret" / "data.jsonl").read_bytes(),
    )
    strangers = {"bob": cookie("e"), "no cookie": {}}
    root = url.rstrip("/")
    for who, headers in strangers.items():
        assert fetch(download["url"], headers)[0] == 403, who
        for path in files:
            for route in (
                f"/gradio_api/file={path}",
                f"/gradio_api/file/{path}",
                f"/file={path}",
                f"/gradio_api/file={os.path.relpath(path)}",
            ):
                code, body = fetch(root + route, headers)
                assert code != 200 and b"alice" not in body, (who, route)
    # B names A's run and dataset in the API: all in B's own workspace, so nothing is found
    bob = Client(url, verbose=False, headers=cookie("e"))
    verdict = bob.predict("20260101-000000-sft-abcd", "hi", "good", "bad", api_name="/reward_try")
    assert verdict.startswith("**⚠️") and "alice" not in verdict and str(workspace) not in verdict
    shown = bob.predict(
        "Hugging Face Hub",
        "prompts",
        None,
        str(mine / "datasets" / "alice-secret" / "data.jsonl"),
        "",
        "train",
        50,
        api_name="/load_data",
    )
    assert shown[0].startswith("**⚠️") and "rows" not in shown[0] and str(workspace) not in shown[0]


def test_server_paths_are_not_echoed(hosted_app):
    from rlhf_playground.workspace import session_key

    url, workspace = hosted_app
    run = fake_run(workspace / "sessions" / session_key("f" * 48))  # a run folder with no reward model in it
    client = Client(url, verbose=False, headers=cookie("f"))
    message = client.predict(run.name, "hi", "good", "bad", api_name="/reward_try")
    assert f"No reward model found in workspace/runs/{run.name}" in message  # the error names the folder...
    assert str(workspace) not in message and "/tmp" not in message  # ...but not where it is on the server


@pytest.mark.slow
def test_a_hostile_regex_is_refused_without_holding_up_anyone_else(hosted_app, tmp_path):
    import threading

    from gradio_client import handle_file

    url, _ = hosted_app
    rows = tmp_path / "as.jsonl"
    rows.write_text(json.dumps({"prompt": "a" * 32 + "b"}) + "\n")
    mallory = Client(url, verbose=False, headers=cookie("g"))
    mallory.predict("Upload a file", "prompts", handle_file(str(rows)), "", "", "train", 50, api_name="/load_data")
    finished = []

    def hostile():
        finished.append(("mallory", mallory.predict("(auto)", "", r"(a|a)+$", api_name="/prepare_data")[0]))

    attack = threading.Thread(target=hostile)
    attack.start()
    other = Client(url, verbose=False, headers=cookie("h"))
    other.predict("Bundled sample", "prompts", None, "", "", "train", 50, api_name="/load_data")
    finished.append(("other", other.predict("(auto)", "", "", api_name="/prepare_data")[0]))
    attack.join(timeout=SLOW_REGEX_S * 10)
    assert [who for who, _ in finished] == ["other", "mallory"]  # the cheap request didn't wait for the regex
    assert "360 rows" in finished[0][1]
    assert "This regex takes too long on row 1" in finished[1][1]


@pytest.mark.slow
def test_a_run_is_watched_only_by_the_session_that_started_it(tmp_path_factory, tiny_model_dir):
    """The live view's poll (an event off gradio's queue) runs in the sender's own workspace."""
    import shutil
    import time

    from rlhf_playground.evaluation.compare import CompareConfig
    from rlhf_playground.ui.compare_tab import GROUPS

    root = tmp_path_factory.mktemp("hosted-poll")
    model = shutil.copytree(tiny_model_dir, root / "cache" / "tiny")  # the model cache is a place hosted users may name
    workspace = root / "workspace"
    workspace.mkdir()
    with running_app(workspace, RLHF_HOSTED="1", RLHF_CACHE_DIR=str(root / "cache")) as url:
        alice, bob = Client(url, verbose=False, headers=cookie("a")), Client(url, verbose=False, headers=cookie("b"))
        nobody = Client(url, verbose=False)
        values = {**vars(CompareConfig()), "base": str(model), "prompts_text": "Hi", "max_new_tokens": 2}
        fields = [name for _, names in GROUPS for name in names]
        message = alice.predict(*[values[name] for name in fields], api_name="/compare_start")[0]
        assert "Run **" in message, message
        deadline, shown = time.monotonic() + 600, [""]
        while time.monotonic() < deadline and not any(s in str(shown[0]) for s in ("finished", "failed")):
            shown = alice.predict(api_name="/compare_poll")
            time.sleep(0.5)
        assert "finished" in shown[0], shown[0]
        for other in (bob, nobody):
            assert other.predict(api_name="/compare_poll")[0] == ""  # no run of theirs to show
        runs = [p for p in (workspace / "sessions").glob("*/runs/*") if p.is_dir()]
        assert len(runs) == 1 and runs[0].parent.parent.name == alice_key()


def alice_key() -> str:
    from rlhf_playground.workspace import session_key

    return session_key("a" * 48)


def test_another_sessions_run_is_refused_as_an_adapter_before_a_job_starts(hosted):
    from rlhf_playground.jobs.runs import create_run
    from rlhf_playground.ppo.config import PPOStageConfig
    from rlhf_playground.stages.sft import SFTStageConfig
    from rlhf_playground.workspace import adapter_folder

    with session("a"):
        theirs = create_run("sft", SFTStageConfig(dataset="d"))
        adapter_folder(theirs.path).mkdir(parents=True)
        (adapter_folder(theirs.path) / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "m"}))
        PPOStageConfig(adapter=theirs.id).check_adapter()  # their own: fine
    with session("b"), pytest.raises(UserError, match="none of your finished SFT runs"):
        PPOStageConfig(adapter=theirs.id).check_adapter()


def test_the_page_and_its_config_are_the_same_for_every_visitor(hosted_app):
    url, _ = hosted_app
    for page in ("", "config"):
        answers = [fetch(url + page, headers) for headers in (cookie("a"), cookie("b"), None)]
        assert {status for status, _ in answers} == {200} and len({body for _, body in answers}) == 1
    assert b"rlhf_session" in fetch(url)[1]  # the page still sets the session cookie
