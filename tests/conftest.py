"""Fixtures shared by every test suite."""

import pytest

from rlhf_playground.tiny import make_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random Llama model and its tokenizer, built once per test session (about a second)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def isolated_workspace(tmp_path, monkeypatch):
    """Each test gets its own workspace, and nothing waits on the Hugging Face Hub."""
    monkeypatch.setenv("RLHF_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
