"""What the page fills in as it opens (menus, run lists, the shown runs), in one event instead of one per tab.

Each tab used to add its own ``load`` event: 24 of them, each a queued request with its own round of gradio's
per-event work, so opening the page cost the server 0.4-0.5 s of CPU and a room opening it together waited
seconds for its menus (``benchmarks/room_burst.py``). The tabs register their parts with :func:`on_open`;
:func:`wire` joins them into one ``load`` event. A part that fails leaves its own outputs as they are and the
others still fill.
"""

from __future__ import annotations

import logging
import weakref

import gradio as gr

log = logging.getLogger(__name__)
_parts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # app -> [(fn, outputs)]


def on_open(app: gr.Blocks, fn, outputs) -> None:
    """Run ``fn()`` when the page opens, updating ``outputs`` (a component or a list), as ``app.load`` would.

    A part reads no widget: what follows widgets alone is filled when the page is built (:func:`fill_when_built`),
    and the rest is the session's (its runs, its datasets)."""
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    _parts.setdefault(app, []).append((fn, outs))


def fill_when_built(component, fn, inputs) -> None:
    """Give ``component`` the value ``fn(*inputs)`` has for the inputs' values the page is built with.

    For a part that follows nothing but other widgets (a command box following its form): as the page opens they
    hold those values, so it needn't be an :func:`on_open` part, and shouldn't. gradio's page keeps a loading
    status for every component that was ever an input or output of an event, and re-sends all of them about six
    times per event, each a search of the whole component tree. With the forms' 197 widgets as inputs of the
    page's opening, a watched run's 2 s poll re-sent 372 statuses (90 without) and cost the browser's main thread
    0.25 s (0.12 s without; CDP call counts and a CPU profile).
    """
    component.value = component.postprocess(fn(*(c.value for c in inputs)))


def wire(app: gr.Blocks) -> None:
    """Add the one ``load`` event that runs every part :func:`on_open` registered for ``app``."""
    parts = _parts.pop(app, [])
    outputs = [c for _, outs in parts for c in outs]
    if len({id(c) for c in outputs}) < len(outputs):
        raise ValueError("two parts of the page's opening fill the same component")

    def fill():
        filled = []
        for fn, outs in parts:
            try:
                result = fn()
            except Exception:  # noqa: BLE001 - one tab's menu mustn't keep the others empty
                log.exception("filling %s on page open failed", getattr(fn, "__name__", fn))
                result = [gr.skip()] * len(outs)
            filled.extend(result if len(outs) > 1 else [result])
        return filled

    if parts:
        app.load(fill, None, outputs, api_visibility="private", show_progress="hidden")
