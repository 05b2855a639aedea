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
_parts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # app -> [(fn, inputs, outputs)]


def on_open(app: gr.Blocks, fn, inputs, outputs) -> None:
    """Run ``fn(*inputs)`` when the page opens, updating ``outputs`` (a component or a list), as ``app.load`` would."""
    ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs] if inputs is not None else []
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    _parts.setdefault(app, []).append((fn, ins, outs))


def wire(app: gr.Blocks) -> None:
    """Add the one ``load`` event that runs every part :func:`on_open` registered for ``app``."""
    parts = _parts.pop(app, [])
    inputs = list({id(c): c for _, ins, _ in parts for c in ins}.values())
    outputs = [c for _, _, outs in parts for c in outs]
    if len({id(c) for c in outputs}) < len(outputs):
        raise ValueError("two parts of the page's opening fill the same component")
    position = {id(c): i for i, c in enumerate(inputs)}

    def fill(*values):
        filled = []
        for fn, ins, outs in parts:
            try:
                result = fn(*(values[position[id(c)]] for c in ins))
            except Exception:  # noqa: BLE001 - one tab's menu mustn't keep the others empty
                log.exception("filling %s on page open failed", getattr(fn, "__name__", fn))
                result = [gr.skip()] * len(outs)
            filled.extend(result if len(outs) > 1 else [result])
        return filled

    if parts:
        app.load(fill, inputs, outputs, api_visibility="private", show_progress="hidden")
