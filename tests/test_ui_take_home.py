"""The UI's "take it home" parts: download a run as a zip, share a run or a dataset with whose token."""

from __future__ import annotations

import zipfile

import gradio as gr
import pytest
from test_share import PPO_EVAL, FakeHub, finished_run

from rlhf_playground.sharing import share
from rlhf_playground.ui import take_home
from rlhf_playground.workspace import session


@pytest.fixture
def fake_hub(monkeypatch):
    hub, tokens = FakeHub(), []
    monkeypatch.setattr(share, "_hub_api", lambda api, token: tokens.append(token) or hub)
    monkeypatch.setattr(share, "hub_reachable", lambda: True)
    return hub, tokens


def test_a_run_is_shared_with_the_local_token_and_linked(fine_adapter, fake_hub, monkeypatch):
    hub, tokens = fake_hub
    run = finished_run("ppo", fine_adapter, PPO_EVAL, reward="lexicon")
    monkeypatch.setenv("HF_TOKEN", "hf_mine")
    message = take_home.share_run(run.id, "me/my-ppo", True)
    assert message == "Shared: [https://huggingface.co/me/my-ppo](https://huggingface.co/me/my-ppo)"
    assert tokens == ["hf_mine"] and "README.md" in hub.files
    assert take_home.share_run(None, "me/x", True).startswith("No run to share")
    assert take_home.share_run(run.id, "not a name", True).startswith("**⚠️")


def test_a_shared_app_pushes_only_with_the_persons_sign_in(fine_adapter, fake_hub, monkeypatch):
    hub, tokens = fake_hub
    run = finished_run("ppo", fine_adapter, PPO_EVAL, reward="lexicon")
    monkeypatch.setenv("HF_TOKEN", "hf_the_hosts_own")
    monkeypatch.setenv("RLHF_HOSTED", "1")
    assert "Sign in with Hugging Face" in take_home.share_run(run.id, "me/x", True)
    assert tokens == [] and hub.calls == []
    signed_in = gr.OAuthToken(token="hf_from_oauth", scope="write-repos", expires_at=0)
    assert take_home.share_run(run.id, "me/x", True, signed_in).startswith("Shared:")
    assert tokens == ["hf_from_oauth"]


def test_a_finished_run_downloads_as_one_zip(fine_adapter):
    run = finished_run("ppo", fine_adapter, PPO_EVAL, reward="lexicon")
    path, message = take_home.download_run(run.id)
    assert path.endswith(f"{run.id}.zip") and "one zip" in message
    assert f"{run.id}/artifacts/adapter/adapter_config.json" in zipfile.ZipFile(path).namelist()
    assert take_home.download_run(None) == (None, "No run to download yet.")


def test_a_shared_app_still_hands_the_sign_in_token_to_the_share_button(fine_adapter, fake_hub, monkeypatch):
    """Hosted, every handler is wrapped per session; gradio must still see (and fill) its OAuthToken parameter."""
    from gradio.helpers import special_args

    from rlhf_playground.ui.sessions import isolate_sessions

    hub, tokens = fake_hub
    monkeypatch.setenv("RLHF_HOSTED", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_the_hosts_own")
    with gr.Blocks() as blocks:
        run_id = gr.State(None)
        take_home.run_take_home("ppo", run_id)
    isolate_sessions(blocks)
    (share_fn,) = [f for f in blocks.fns.values() if f.api_name == "ppo_share"]
    signed_in = gr.OAuthToken(token="hf_from_oauth", scope="write-repos", expires_at=0)
    with session(f"page:{FakeRequest.session_hash}"):  # the workspace of the page that asks
        run = finished_run("ppo", fine_adapter, PPO_EVAL, reward="lexicon")
    inputs, *_ = special_args(share_fn.fn, [run.id, "me/x", True], request=None, token=signed_in)
    assert inputs[-1] is signed_in  # injected after the three widget values
    assert share_fn.fn(FakeRequest(), *inputs[1:]).startswith("Shared:")
    assert tokens == ["hf_from_oauth"]


class FakeRequest:
    """A page without the session cookie: its workspace is named by gradio's session hash."""

    cookies: dict = {}
    session_hash = "test-page"
