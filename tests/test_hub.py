"""The Hub probe asks over HTTP with huggingface_hub's client, so it works behind a proxy."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
from huggingface_hub.utils import close_session

from rlhf_playground.sharing import hub

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture
def fresh_client(monkeypatch):
    """No proxy settings, an empty probe cache and a client made anew (it reads the proxy settings once)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_cache", {})
    close_session()
    yield monkeypatch
    close_session()


@pytest.fixture
def proxy():
    """An HTTP proxy on the loopback that answers every request itself and records what it was asked."""
    asked: list[tuple[str, str]] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            asked.append(("HEAD", self.path))
            self.send_response(401)  # the Hub answers an anonymous /api call; any answer means it is there
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_hub_behind_a_proxy_is_reachable(fresh_client, proxy):
    url, asked = proxy
    # a name no resolver knows: only the proxy can reach it, as on a network whose only way out is its proxy
    fresh_client.setenv("HF_ENDPOINT", "http://hub.example.invalid")
    fresh_client.setenv("HTTP_PROXY", url)
    assert hub.hub_reachable(timeout=30)
    assert asked == [("HEAD", "http://hub.example.invalid/api/models")]
    assert hub.hub_reachable(timeout=30) and len(asked) == 1  # remembered, not asked again


def test_no_answer_means_offline_and_is_said_in_one_sentence(fresh_client):
    fresh_client.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    assert not hub.hub_reachable(timeout=30)
    with pytest.raises(hub.UserError, match="Can't fetch 'gpt2'"):
        hub.require_hub("gpt2")


def test_offline_mode_asks_nothing(fresh_client, proxy):
    url, asked = proxy
    fresh_client.setenv("HF_ENDPOINT", "http://hub.example.invalid")
    fresh_client.setenv("HTTP_PROXY", url)
    fresh_client.setenv("HF_HUB_OFFLINE", "1")
    assert not hub.hub_reachable() and asked == []
