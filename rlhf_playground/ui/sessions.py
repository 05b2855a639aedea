"""Hosted mode in the UI: every event handler runs in the workspace of the browser that sent it.

A small script in the page gives each browser a random secret in a cookie (kept across reloads,
so a reload still finds its runs); where cookies are blocked (some embedded frames) the page's
own session id is used instead, and a reload starts a fresh workspace.

What a handler returns is scrubbed of server paths (the workspace shows as ``workspace/…``), and a
file it offers for download (:func:`offer_download`) is a copy in gradio's cache that
:class:`DownloadGuard` serves only to requests carrying the cookie of a session it was offered to.
A client without the cookie (an API script, a browser that blocks it) gets a download link that is
a capability: an unguessable path, sent to that client alone.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
import typing
from pathlib import Path

import gradio as gr

from ..hosting import on_space
from ..workspace import root_dir, session, session_key, workspace_dir

COOKIE = "rlhf_session"
COOKIE_SCRIPT = f"""<script>(() => {{
  if (document.cookie.split("; ").some((c) => c.startsWith("{COOKIE}="))) return;
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("");
  const attributes = location.protocol === "https:" ? "; SameSite=None; Secure; Partitioned" : "; SameSite=Lax";
  document.cookie = "{COOKIE}=" + secret + "; path=/; max-age=2592000" + attributes;
}})();</script>"""
SCOPE_REQUEST = "_rlhf_session_request"  # the request per_session adds to every handler
ANYONE_WITH_THE_LINK = ""  # the owner of a download offered to a session without a cookie
_cookie_owner: contextvars.ContextVar[str | None] = contextvars.ContextVar("rlhf_cookie_owner", default=None)
_offered: dict[str, set[str]] = {}  # cached download path -> the sessions it was offered to
_offered_lock = threading.Lock()


def cookie_secret(cookies) -> str | None:
    """The session secret in a request's cookies, if it has a real one."""
    value = cookies.get(COOKIE, "") if hasattr(cookies, "get") else ""
    return value if len(value) >= 32 else None


def secret(request: gr.Request) -> str:
    return cookie_secret(getattr(request, "cookies", None) or {}) or f"page:{request.session_hash}"


def address(request: gr.Request) -> str:
    """The network address a request came from. On a Space the app sits behind Hugging Face's proxy, which
    appends the address it saw to ``X-Forwarded-For``: its last entry is the one a client can't forge."""
    forwarded = (getattr(request, "headers", None) or {}).get("x-forwarded-for", "")
    if on_space() and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    client = getattr(request, "client", None)
    return getattr(client, "host", "") or ""


# ------------------------------------------------------------------ scrubbing server paths
def _path_names() -> list[tuple[str, str]]:
    """(server path, what a person sees instead), the longest first."""
    from gradio.utils import get_upload_folder

    names = {
        str(workspace_dir()): "workspace",
        str(root_dir()): "workspace",
        str(Path(get_upload_folder()).resolve()): "uploads",
    }
    return sorted(names.items(), key=lambda pair: -len(pair[0]))


def scrub(value, names: list[tuple[str, str]]):
    """``value`` with server paths in its text replaced (strings, lists, dicts, tables; others as they are)."""
    if isinstance(value, str):
        for path, shown in names:
            value = value.replace(path, shown)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v, names) for v in value)
    if isinstance(value, dict):
        return {k: scrub(v, names) for k, v in value.items()}
    if type(value).__name__ == "DataFrame":
        return value.map(lambda v: scrub(v, names) if isinstance(v, str) else v)
    return value


def _scrubbed(fn, outputs: list):
    """``fn`` whose results for ``outputs`` are scrubbed, except states and files (their values are not shown)."""
    keep = [isinstance(block, (gr.State, gr.File)) for block in outputs]

    @functools.wraps(fn)  # keeps its parameters in sight: gradio injects a sign-in token by their types
    def wrapped(*args):
        result = fn(*args)
        names = _path_names()
        if not outputs:  # an API endpoint (gr.api): its one result
            return scrub(result, names)
        if len(outputs) == 1:
            return result if keep[0] else scrub(result, names)
        return type(result)(r if k else scrub(r, names) for r, k in zip(result, keep))

    return wrapped


# ------------------------------------------------------------------ per-session handlers
def per_session(fn):
    """``fn`` run inside the sender's workspace; gradio passes the request as the first argument."""
    if inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"{fn.__name__}: only plain functions can be made per-session")

    def scoped(request: gr.Request, *args):
        from_cookie = cookie_secret(getattr(request, "cookies", None) or {})
        owner = _cookie_owner.set(session_key(from_cookie) if from_cookie else ANYONE_WITH_THE_LINK)
        try:
            with session(secret(request), address(request)):
                return fn(*args)
        finally:
            _cookie_owner.reset(owner)

    params = list(inspect.signature(fn).parameters.values())
    # a name no handler uses (gradio's LoginButton has a ``request`` of its own): gradio fills both
    request = inspect.Parameter(SCOPE_REQUEST, inspect.Parameter.POSITIONAL_ONLY, annotation=gr.Request)
    scoped.__signature__ = inspect.Signature([request, *params])
    try:  # the handler's own types (a gr.OAuthToken parameter, say), resolved where it was written
        hints = typing.get_type_hints(inspect.unwrap(fn))
    except (NameError, TypeError):
        hints = {}
    scoped.__annotations__ = {**hints, SCOPE_REQUEST: gr.Request}
    scoped.__name__ = getattr(fn, "__name__", "handler")
    return scoped


def isolate_sessions(app: gr.Blocks) -> None:
    """Make every event handler of ``app`` per-session and free of server paths (call after it is built)."""
    for block_fn in app.fns.values():
        if block_fn.fn is not None:
            block_fn.fn = per_session(_scrubbed(block_fn.fn, block_fn.outputs))


# ------------------------------------------------------------------ downloads
def offer_download(path: str | Path) -> str:
    """A copy of ``path`` in gradio's cache for a ``gr.File`` output; in hosted mode only the sessions
    it was offered to may fetch it (see :class:`DownloadGuard`). Nothing of the workspace is served."""
    from gradio.processing_utils import save_file_to_cache
    from gradio.utils import get_upload_folder

    cached = str(Path(save_file_to_cache(path, get_upload_folder())).resolve())
    owner = _cookie_owner.get()
    if owner is not None:
        with _offered_lock:
            _offered.setdefault(cached, set()).add(owner)
    return cached


def may_download(path: str, cookies) -> bool:
    """Whether a request with ``cookies`` may read ``path``: anything the app didn't offer is gradio's
    own business; an offered file needs the cookie of a session it was offered to."""
    with _offered_lock:
        owners = _offered.get(str(Path(path).resolve()))
    if owners is None or ANYONE_WITH_THE_LINK in owners:
        return True
    secret_value = cookie_secret(cookies)
    return secret_value is not None and session_key(secret_value) in owners


def requested_file(url_path: str) -> str | None:
    """The file a gradio file route asks for (``…/file=PATH`` or ``…/file/PATH``), else None."""
    for marker in ("/file=", "/file/"):
        if marker in url_path:
            return url_path.split(marker, 1)[1]  # already decoded, as the route reads it
    return None


class DownloadGuard:
    """ASGI middleware: refuses a gradio file request for an offered download without its session's cookie."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and (path := requested_file(scope.get("path", ""))) is not None:
            from starlette.requests import Request
            from starlette.responses import PlainTextResponse

            if not may_download(path, Request(scope).cookies):
                await PlainTextResponse("File not allowed.", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
