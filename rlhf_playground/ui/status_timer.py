"""A script put first in the page's head that stops an idle gradio page from asking for 60 frames a second.

gradio 6.31 shows a status tracker while its page loads. The tracker counts the elapsed time in a
``requestAnimationFrame`` loop, and the page unmounts it once loaded without stopping that loop, so every open
gradio page, even an empty ``gr.Blocks()``, asks the browser for a frame 60 times a second for as long as it is
visible (300 requests in 5 s; the browser's compositor and GPU process then cost a visible idle page 6-7% of a
core). The script gives the status trackers' frame requests to a 10 Hz timer instead: their elapsed time is
shown to a tenth of a second anyway, and a timer asks for no frame when nothing on the page changed. Every other
caller keeps real frames.

gradio adds ``launch(head=...)`` to the page from its own scripts, after its modules have taken their reference
to ``requestAnimationFrame``, so :class:`StatusTimerFirst` writes this script into the page's HTML instead,
ahead of them.
"""

from __future__ import annotations

from .page_cache import path_below_root, whole_answer

STATUS_TIMER_SCRIPT = b"""<script>(() => {
  const frame = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) =>
    (new Error().stack || "").includes("/statustracker-")
      ? setTimeout(() => callback(performance.now()), 100)
      : frame(callback);
})();</script>"""


class StatusTimerFirst:
    """ASGI middleware: the page (``GET /``) with :data:`STATUS_TIMER_SCRIPT` first in its ``<head>``.

    Installed inside :class:`~.page_cache.PageCache`, so the page it keeps has the script; a ``HEAD`` request is
    answered as gradio answers it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET" or path_below_root(scope) != "/":
            await self.app(scope, receive, send)
            return
        for message in with_script(await whole_answer(self.app, scope, receive)):
            await send(message)


def with_script(messages: list[dict]) -> list[dict]:
    """A whole, uncompressed HTML answer with the script after its ``<head>``; any other answer as it is."""
    if not messages or messages[0].get("type") != "http.response.start":
        return messages
    start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
    headers = start.get("headers", [])
    named = {name.lower(): value for name, value in headers}
    html = named.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in named
    if start.get("status") != 200 or not html or b"<head>" not in body:
        return messages
    body = body.replace(b"<head>", b"<head>" + STATUS_TIMER_SCRIPT, 1)
    length = (b"content-length", str(len(body)).encode())
    headers = [length if name.lower() == b"content-length" else (name, value) for name, value in headers]
    return [{**start, "headers": headers}, {"type": "http.response.body", "body": body}]
