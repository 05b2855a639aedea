"""Hosted mode in the UI: every event handler runs in the workspace of the browser that sent it.

A small script in the page gives each browser a random secret in a cookie (kept across reloads,
so a reload still finds its runs); where cookies are blocked (some embedded frames) the page's
own session id is used instead, and a reload starts a fresh workspace.
"""

from __future__ import annotations

import inspect

import gradio as gr

from ..workspace import session

COOKIE = "rlhf_session"
COOKIE_SCRIPT = f"""<script>(() => {{
  if (document.cookie.split("; ").some((c) => c.startsWith("{COOKIE}="))) return;
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("");
  const attributes = location.protocol === "https:" ? "; SameSite=None; Secure; Partitioned" : "; SameSite=Lax";
  document.cookie = "{COOKIE}=" + secret + "; path=/; max-age=2592000" + attributes;
}})();</script>"""


def secret(request: gr.Request) -> str:
    cookies = getattr(request, "cookies", None) or {}
    value = cookies.get(COOKIE, "") if hasattr(cookies, "get") else ""
    return value if len(value) >= 32 else f"page:{request.session_hash}"


def per_session(fn):
    """``fn`` run inside the sender's workspace; gradio passes the request as the first argument."""
    if inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"{fn.__name__}: only plain functions can be made per-session")

    def scoped(request: gr.Request, *args):
        with session(secret(request)):
            return fn(*args)

    params = list(inspect.signature(fn).parameters.values())
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_ONLY, annotation=gr.Request)
    scoped.__signature__ = inspect.Signature([request, *params])
    scoped.__annotations__ = {"request": gr.Request}
    scoped.__name__ = getattr(fn, "__name__", "handler")
    return scoped


def isolate_sessions(app: gr.Blocks) -> None:
    """Make every event handler of ``app`` per-session (call after the app is built)."""
    for block_fn in app.fns.values():
        if block_fn.fn is not None:
            block_fn.fn = per_session(block_fn.fn)
