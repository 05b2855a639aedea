"""Small helpers shared by the tabs."""

from __future__ import annotations

import json

from ..errors import UserError
from ..hosting import MODEL_EVENTS, host_number


def problem(exc: UserError) -> str:
    """A user error as the Markdown a status box shows."""
    return f"**⚠️ {exc}**"


def cell(value, width: int = 160) -> str:
    """One table cell: text as is, anything else as compact JSON, cut to ``width`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[dict], columns: list[str], limit: int | None = 20, cut: bool = True) -> dict:
    """The first ``limit`` rows (all with None) as a ``gr.Dataframe`` value, each cell as a short string (as it
    is, with ``cut`` False).

    A plain ``{"headers", "data"}`` value rather than a pandas DataFrame: gradio sends the same either way,
    and building a small DataFrame of strings was a third of loading a sample's own work in a room's burst
    (`benchmarks/room_burst.py --profile`).
    """
    show = cell if cut else (lambda value: value)
    return {"headers": list(columns), "data": [[show(r.get(c)) for c in columns] for r in rows[:limit]]}


def model_work() -> dict:
    """A listener's settings for a click that runs a model in the app's own process (Try models, the reward
    model's try-out): such clicks take turns in one group of ``RLHF_MODEL_EVENTS`` (hosted 1, locally 2), so a
    room pressing Generate waits there, with gradio's place in line, while the cheap events (loading data,
    saving, starting jobs, polls) keep their own queues and the CPU to run them."""
    return {"concurrency_id": "model", "concurrency_limit": max(1, int(host_number(*MODEL_EVENTS, local_default=2)))}
