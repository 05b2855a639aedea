"""The page and its config, built once for each address the app is reached at, then sent again as they are.

Gradio builds the page (900 KB, every tab's layout inlined) and ``/config`` (720 KB) anew for every visitor:
a deep copy of the app's config and a walk that rewrites its URLs, 40-60 ms of the server's one Python
thread each. A room opening the app in the same second waited for 30 of them in a row. Both answers are
the same bytes for everyone who reaches the app by the same URL and proxy headers (no cookie or session
goes into them), so the first is kept and the others get its copy; visitors who arrive while it is being
built wait for that one instead of building their own. The app has no login (gradio's ``auth``), which
would put the user's name into them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

PAGES = ("/", "/config")  # below the app's root path
KEPT = 8  # answers kept (one per address the app is reached at); the Host header is the visitor's to choose
KEYED_HEADERS = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-gradio-server", b"accept-encoding")


class PageCache:
    """ASGI middleware: keeps gradio's answer to ``GET /`` and ``GET /config`` and sends it again."""

    def __init__(self, app):
        self.app = app
        self.kept: OrderedDict[tuple, list[dict]] = OrderedDict()  # key -> the answer's ASGI messages
        self.building: dict[tuple, asyncio.Future] = {}

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

        async def keep(message):
            messages.append(message)

        try:
            await self.app(scope, receive, keep)  # built whole first: a client that never reads holds up no one
            if complete_and_shareable(messages):
                self.kept[key] = messages
                while len(self.kept) > KEPT:
                    self.kept.popitem(last=False)
        finally:
            self.building.pop(key).set_result(None)
        for message in messages:
            await send(message)


def page_key(scope) -> tuple | None:
    """What the page's bytes depend on, for a GET of the page or its config; None for any other request."""
    if scope["type"] != "http" or scope.get("method") != "GET":
        return None
    root, path = scope.get("root_path", ""), scope.get("path", "")
    if (path[len(root) :] if root and path.startswith(root) else path) not in PAGES:
        return None
    headers = dict(scope.get("headers") or [])
    return (
        scope.get("scheme"),
        tuple(scope.get("server") or ()),
        root,
        path,
        scope.get("query_string", b""),
        *(headers.get(name) for name in KEYED_HEADERS),
    )


def complete_and_shareable(messages: list[dict]) -> bool:
    """A whole 200 answer that sets no cookie."""
    if not messages or messages[0].get("type") != "http.response.start" or messages[0].get("status") != 200:
        return False
    if any(name.lower() == b"set-cookie" for name, _ in messages[0].get("headers", [])):
        return False
    return messages[-1].get("type") == "http.response.body" and not messages[-1].get("more_body", False)
