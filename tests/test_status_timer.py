"""The page gets the script that stops gradio's idle frame loop first in its head; no other answer changes."""

import asyncio

from test_page_cache import request

from rlhf_playground.ui.status_timer import STATUS_TIMER_SCRIPT, StatusTimerFirst

PAGE = b'<!doctype html><html><head><script type="module" src="./assets/index.js"></script></head><body></body></html>'
HTML = (b"content-type", b"text/html; charset=utf-8")


class Page:
    """An ASGI app that sends ``body`` in two parts, with its length."""

    def __init__(self, body=PAGE, headers=(HTML,), status=200):
        self.body, self.headers, self.status = body, list(headers), status

    async def __call__(self, scope, receive, send):
        headers = [*self.headers, (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        half = len(self.body) // 2
        await send({"type": "http.response.body", "body": self.body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": self.body[half:]})


def answer(app, scope) -> tuple[list, bytes]:
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    asyncio.run(app(scope, receive, send))
    return sent[0]["headers"], b"".join(m.get("body", b"") for m in sent[1:])


def test_the_page_runs_the_script_before_gradios_modules():
    cookies = [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
    headers, body = answer(StatusTimerFirst(Page(headers=(HTML, *cookies))), request())
    assert body.startswith(b"<!doctype html><html><head>" + STATUS_TIMER_SCRIPT + b'<script type="module"')
    assert body.count(STATUS_TIMER_SCRIPT) == 1 and [int(v) for n, v in headers if n == b"content-length"] == [
        len(body)
    ]
    assert [h for h in headers if h[0] == b"set-cookie"] == cookies  # every header kept, only the length changes


def test_the_page_below_a_root_path_gets_it_and_nothing_else_there_does():
    below = {**request(path="/app/"), "root_path": "/app"}
    assert answer(StatusTimerFirst(Page()), below)[1].count(STATUS_TIMER_SCRIPT) == 1
    config = {**request(path="/app/config"), "root_path": "/app"}
    assert answer(StatusTimerFirst(Page()), config) == answer(Page(), config)


def test_other_answers_pass_as_they_are():
    compressed = Page(headers=(HTML, (b"content-encoding", b"br")))
    for app, scope in (
        (Page(), request("/config")),
        (Page(), request(method="POST")),
        (Page(status=404), request()),
        (Page(headers=((b"content-type", b"application/json"),)), request()),
        (compressed, request()),
    ):
        assert answer(StatusTimerFirst(app), scope) == answer(app, scope)
