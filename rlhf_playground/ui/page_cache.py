"""The page and its config, built once for each address the app is reached at, then sent again as they are.

Gradio builds the page (900 KB, every tab's layout inlined) and ``/config`` (720 KB) anew for every visitor:
a deep copy of the app's config and a walk that rewrites its URLs, 40-60 ms of the server's one Python
thread each. A room opening the app in the same second waited for 30 of them in a row. Both answers are
the same bytes for everyone who reaches the app by the same URL and proxy headers (no cookie or session
goes into them), so the first is kept and the others get its copy; visitors who arrive while it is being
built wait for that one instead of building their own. The app has no login (gradio's ``auth``), which
would put the user's name into them.

The page's scripts, stylesheets and fonts (98 files, gradio's own, named by their content's hash) are kept the
same way: a browser opening the page for the first time fetched them all, each read from disk in chunks
through worker threads, half of the 0.34 s of the server's Python a page open cost.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

PAGES = ("/", "/config", "/theme.css")  # below the app's root path
ASSETS = ("/assets/", "/static/")  # gradio's own files, below the app's root path
KEPT = 512  # answers kept: the page's files, for each address the app is reached at...
KEPT_BYTES = 64 * 2**20  # ...and at most this much of them (the Host header is the visitor's to choose)
KEYED_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server", b"accept-encoding")


class PageCache:
    """ASGI middleware: keeps gradio's answer to ``GET /``, ``/config`` and the page's files, and sends it again."""

    def __init__(self, app):
        self.app = app
        self.kept: OrderedDict[tuple, list[dict]] = OrderedDict()  # key -> the answer's ASGI messages
        self.building: dict[tuple, asyncio.Future] = {}
        self.kept_bytes = 0

    async def __call__(self, scope, receive, send):
        key = page_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        while key not in self.kept and key in self.building:  # someone is building it: wait for theirs
            await asyncio.shield(self.building[key])
        if key in self.kept:
            self.kept.move_to_end(key)
            for message in self.kept[key]:
                await send(message)
            return
        self.building[key] = asyncio.get_running_loop().create_future()
        messages: list[dict] = []
        try:
            messages = await whole_answer(self.app, scope, receive)  # a client that never reads holds up no one
            if complete_and_shareable(messages):
                self.kept[key] = messages
                self.kept_bytes += size(messages)
                while len(self.kept) > KEPT or self.kept_bytes > KEPT_BYTES:
                    self.kept_bytes -= size(self.kept.popitem(last=False)[1])
        finally:
            self.building.pop(key).set_result(None)
        for message in messages:
            await send(message)


async def whole_answer(app, scope, receive) -> list[dict]:
    """The ASGI messages ``app`` answers ``scope`` with, all of them, before any is sent on."""
    messages: list[dict] = []

    async def keep(message):
        messages.append(message)

    await app(scope, receive, keep)
    return messages


def page_key(scope) -> tuple | None:
    """What the bytes depend on, for a GET of the page, its config or its files; None for any other request
    (and for a browser asking whether its own copy is still good: gradio answers that)."""
    if scope["type"] != "http" or scope.get("method") != "GET":
        return None
    root, path = scope.get("root_path", ""), scope.get("path", "")
    below = path_below_root(scope)
    if below not in PAGES and not below.startswith(ASSETS):
        return None
    headers = dict(scope.get("headers") or [])
    if any(name in headers for name in (b"range", b"if-none-match", b"if-modified-since")):
        return None
    return (
        scope.get("scheme"),
        tuple(scope.get("server") or ()),
        root,
        path,
        scope.get("query_string", b""),
        *(headers.get(name) for name in KEYED_HEADERS),
    )


def path_below_root(scope) -> str:
    """The request's path below the app's root path (``/`` is the page)."""
    root, path = scope.get("root_path", ""), scope.get("path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def complete_and_shareable(messages: list[dict]) -> bool:
    """A whole 200 answer that sets no cookie."""
    if not messages or messages[0].get("type") != "http.response.start" or messages[0].get("status") != 200:
        return False
    if any(name.lower() == b"set-cookie" for name, _ in messages[0].get("headers", [])):
        return False
    return messages[-1].get("type") == "http.response.body" and not messages[-1].get("more_body", False)


def size(messages: list[dict]) -> int:
    return sum(len(m.get("body", b"")) for m in messages)
