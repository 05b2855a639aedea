"""The UI's "take it home" parts: download a run as a zip, share a run or a dataset with whose token."""

from __future__ import annotations

import zipfile

import gradio as gr
import pytest
from test_share import PPO_EVAL, FakeHub, finished_run

from rlhf_playground import share
from rlhf_playground.ui import take_home


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
