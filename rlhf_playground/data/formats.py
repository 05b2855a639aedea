"""The format vocabulary of datasets: a table, what a chat is, the names columns go by, the
shape of a column's values. What load, detect, extract and prepare all speak, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError

ALIASES = {
    "prompt": ("prompt", "question", "instruction", "query", "input"),
    "chosen": ("chosen", "response_chosen", "chosen_response", "preferred", "preferred_response"),
    "rejected": ("rejected", "response_rejected", "rejected_response", "dispreferred", "dispreferred_response"),
    "completion": ("completion", "response", "output", "answer"),
    "messages": ("messages", "conversations", "conversation", "chat"),
    "text": ("text", "content", "review", "sentence"),
    "label": ("label", "labels", "sentiment", "score"),
}
# Read as labels only when they hold whole numbers (a float "score" is a rating, not a class).
INTEGER_ONLY = {"score"}
EXPECTED = "prompt; chosen + rejected; prompt + completion (+ a true/false label); messages; text (+ label)"
# ShareGPT's speakers as the roles chat templates know
SHAREGPT_ROLES = {"human": "user", "user": "user", "system": "system"}
SHAREGPT_ROLES |= dict.fromkeys(("gpt", "assistant", "chatgpt", "bing", "bard", "model"), "assistant")


@dataclass
class Table:
    rows: list[dict]
    columns: list[str]
    source: str
    sample: tuple[str, int | None] | None = None  # (name, row limit) of a bundled sample: the same for everyone


def check_column(table: Table, column: str) -> str:
    if column not in table.columns:
        raise UserError(f"There is no column '{column}': pick one of {', '.join(table.columns)}.")
    return column


def _value_type(value) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "chat messages" if is_chat(value) else "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_chat(value) -> bool:
    """A non-empty list of ``{"role", "content"}`` messages."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m and "content" in m for m in value)
    )


def is_sharegpt(value) -> bool:
    """A non-empty list of ShareGPT turns, ``{"from", "value"}``."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "from" in m and "value" in m for m in value)
    )


def from_sharegpt(row: dict) -> dict:
    """The row with its ShareGPT conversations as chat messages: TRL's ``maybe_convert_to_chatml`` renames
    the keys (and a ``conversations`` column to ``messages``), and human/gpt become user/assistant."""
    import copy

    from trl.data_utils import maybe_convert_to_chatml  # a few seconds to import: only for ShareGPT data

    row = maybe_convert_to_chatml(copy.deepcopy(row))
    for key, value in row.items():  # columns TRL's helper doesn't know (conversation, dialog, ...)
        if is_sharegpt(value):
            row[key] = [{"role": m["from"], "content": m["value"]} for m in value]
    for value in row.values():
        if is_chat(value):
            for message in value:
                message["role"] = SHAREGPT_ROLES.get(str(message["role"]).lower(), message["role"])
    return row


def is_text_chat(value) -> bool:
    """Chat messages whose roles and contents are all strings: what a chat template can render (one
    with a number for content fails deep inside the template)."""
    return is_chat(value) and all(isinstance(m["role"], str) and isinstance(m["content"], str) for m in value)


def column_types(table: Table) -> dict[str, str]:
    types = {}
    for column in table.columns:
        seen = list(dict.fromkeys(_value_type(r[column]) for r in table.rows if r.get(column) is not None))
        if set(seen) == {"integer", "number"}:
            seen = ["number"]
        if set(seen) == {"chat messages", "list"} and all(
            not r[column] or is_chat(r[column]) for r in table.rows if r.get(column) is not None
        ):
            seen = ["chat messages"]  # empty lists next to chats
        types[column] = seen[0] if len(seen) == 1 else f"mixed ({', '.join(seen)})" if seen else "empty"
    return types
