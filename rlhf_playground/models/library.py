"""transformers, imported one thread at a time, and the first loads done before anyone waits for them."""

from __future__ import annotations

import threading

_IMPORTING = threading.Lock()


def from_transformers(*names: str) -> list:
    """``from transformers import <names>``, one thread at a time: transformers' lazy module fails with "cannot
    import name" when two threads (two visitors' first clicks) import through it at once."""
    with _IMPORTING:
        import transformers

        return [getattr(transformers, name) for name in names]
