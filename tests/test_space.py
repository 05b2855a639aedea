"""The repository as a Hugging Face Space: complete front matter, a license, sign-in where the Space has OAuth."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import yaml

from rlhf_playground.models import DEFAULT_HUB_ID
from rlhf_playground.models.minilm import HUB_ENCODER
from rlhf_playground.ui import take_home

ROOT = Path(__file__).resolve().parents[1]


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_the_front_matter_is_complete():
    meta = front_matter()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == gr.__version__  # the Space runs the gradio the tests ran
    assert 0 < len(meta["short_description"]) <= 60  # the Hub's limit
    assert meta["license"] == "apache-2.0" and meta["suggested_hardware"]
    assert {DEFAULT_HUB_ID, HUB_ENCODER} <= set(meta["preload_from_hub"]) <= set(meta["models"])
    assert meta["datasets"] and meta["hf_oauth"] is True
    assert {"write-repos", "manage-repos"} <= set(meta["hf_oauth_scopes"])  # create and push the person's repos


def test_the_license_is_apache_2():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text


def blocks_with_share_widgets() -> gr.Blocks:
    with gr.Blocks() as blocks:
        take_home.run_take_home("ppo", gr.State(None))
    return blocks


def on_a_space(monkeypatch) -> None:
    monkeypatch.setenv("SPACE_ID", "someone/rlhf-playground")
    monkeypatch.setenv("SYSTEM", "spaces")  # what a Space sets, and what gradio reads
    for name, value in {
        "OAUTH_CLIENT_ID": "id",
        "OAUTH_CLIENT_SECRET": "secret",
        "OAUTH_SCOPES": "openid profile write-repos manage-repos",
        "OPENID_PROVIDER_URL": "https://huggingface.co",
    }.items():  # what a Space with hf_oauth: true sets (gradio reads it as it is imported)
        monkeypatch.setattr(gr.oauth, name, value)


def test_the_whole_app_builds_on_a_space_with_sign_in_and_private_sessions(monkeypatch):
    from rlhf_playground.ui.app import build_app
    from rlhf_playground.ui.sessions import SCOPE_REQUEST

    on_a_space(monkeypatch)
    app = build_app()  # hosted (SPACE_ID): every handler wrapped per session, the sign-in button's too
    assert app.expects_oauth
    login = [f for f in app.fns.values() if getattr(f.fn, "__name__", "") == "_check_login_status"]
    assert login and all(SCOPE_REQUEST in f.fn.__signature__.parameters for f in login)


def test_sign_in_is_offered_on_a_space_only(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert not blocks_with_share_widgets().expects_oauth  # locally gradio would want a saved login to mock it
    on_a_space(monkeypatch)
    assert blocks_with_share_widgets().expects_oauth


def test_a_shared_app_reads_the_hub_with_no_token(monkeypatch):
    from rlhf_playground.cli import serve
    from rlhf_playground.sharing import hub
    from rlhf_playground.ui import app

    monkeypatch.setenv("HF_TOKEN", "hf_the_hosts_own")
    assert hub.hub_token() is None  # locally: HF_TOKEN (or the saved login), as huggingface_hub takes it
    monkeypatch.setenv("RLHF_HOSTED", "1")
    assert hub.hub_token() is False  # a shared app: explicitly none
    monkeypatch.delenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", raising=False)
    monkeypatch.setattr(app, "launch", lambda **kwargs: None)
    parser = __import__("argparse").ArgumentParser()
    serve.register(parser.add_subparsers())
    serve.command(parser.parse_args(["serve"]))
    assert serve.os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] == "1"  # and the jobs it starts inherit it
