"""The page and its config are built once per address and sent again; nothing else is kept."""

import asyncio

from rlhf_playground.ui import page_cache
from rlhf_playground.ui.page_cache import KEPT, PageCache


class CountingApp:
    """An ASGI app that answers with the request's path and how many requests it has built."""

    def __init__(self, status=200, headers=(), pause=0.0):
        self.built, self.status, self.headers, self.pause = 0, status, list(headers), pause

    async def __call__(self, scope, receive, send):
        self.built += 1
        await asyncio.sleep(self.pause)
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": f"{scope['path']} #{self.built}".encode()})


def request(path="/", method="GET", host=b"room.example", query=b"", cookie=None, extra=()):
    headers = [(b"host", host)] + ([(b"cookie", cookie)] if cookie else []) + list(extra)
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": query, "headers": headers}


async def get(app, scope) -> bytes:
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    await app(scope, receive, send)
    return b"".join(m.get("body", b"") for m in sent)


def test_everyone_gets_the_first_built_page_whatever_their_cookie():
    inner = CountingApp()
    cache = PageCache(inner)
    first = asyncio.run(get(cache, request(cookie=b"rlhf_session=" + b"a" * 48)))
    again = asyncio.run(get(cache, request(cookie=b"rlhf_session=" + b"b" * 48)))
    config = asyncio.run(get(cache, request("/config")))
    assert first == again == b"/ #1" and config == b"/config #2" and inner.built == 2


def test_another_address_query_or_method_is_built_anew():
    inner = CountingApp()
    cache = PageCache(inner)
    for scope in (request(), request(host=b"other.example"), request(query=b"__theme=dark"), request(method="POST")):
        asyncio.run(get(cache, scope))
    asyncio.run(get(cache, request(method="POST")))
    assert inner.built == 5


def test_other_routes_errors_and_cookies_set_are_never_kept():
    for inner, path in (
        (CountingApp(), "/gradio_api/queue/join"),
        (CountingApp(status=500), "/"),
        (CountingApp(headers=[(b"set-cookie", b"x=1")]), "/config"),
    ):
        cache = PageCache(inner)
        asyncio.run(get(cache, request(path)))
        asyncio.run(get(cache, request(path)))
        assert inner.built == 2 and not cache.kept


def test_a_room_arriving_together_waits_for_one_page():
    inner = CountingApp(pause=0.05)
    cache = PageCache(inner)

    async def room():
        return await asyncio.gather(*(get(cache, request()) for _ in range(30)))

    assert set(asyncio.run(room())) == {b"/ #1"} and inner.built == 1


def test_the_kept_pages_are_bounded_however_many_hosts_are_named():
    inner = CountingApp()
    cache = PageCache(inner)
    for i in range(KEPT * 3):
        asyncio.run(get(cache, request(host=f"h{i}.example".encode())))
    assert len(cache.kept) == KEPT


def test_a_first_visitor_who_never_reads_holds_up_nobody():
    inner = CountingApp()
    cache = PageCache(inner)

    async def never_reads(message):
        await asyncio.Event().wait()  # its connection never drains

    async def receive():
        return {"type": "http.request", "body": b""}

    async def room():
        stuck = asyncio.create_task(cache(request(), receive, never_reads))
        others = await asyncio.wait_for(asyncio.gather(*(get(cache, request()) for _ in range(3))), timeout=60)
        stuck.cancel()
        return others

    assert asyncio.run(room()) == [b"/ #1"] * 3 and inner.built == 1


def test_the_pages_files_are_kept_but_a_browser_checking_its_copy_asks_gradio():
    inner = CountingApp()
    cache = PageCache(inner)
    for _ in range(2):
        assert asyncio.run(get(cache, request("/assets/index-abc123.js"))) == b"/assets/index-abc123.js #1"
    asyncio.run(get(cache, request("/assets/index-abc123.js", extra=[(b"if-none-match", b'"abc"')])))
    asyncio.run(get(cache, request("/assets/font.woff2", extra=[(b"range", b"bytes=0-10")])))
    assert inner.built == 3


def test_the_kept_bytes_are_bounded(monkeypatch):
    monkeypatch.setattr(page_cache, "KEPT_BYTES", 100)
    cache = PageCache(CountingApp())
    for i in range(20):
        asyncio.run(get(cache, request(f"/assets/file-{i}.js")))
    assert 0 < cache.kept_bytes <= 100 and cache.kept_bytes == sum(page_cache.size(m) for m in cache.kept.values())
