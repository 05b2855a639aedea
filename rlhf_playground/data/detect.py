"""What kind of dataset a table is, from its column names and the shape of its values."""

from __future__ import annotations

from dataclasses import dataclass

from .formats import ALIASES, EXPECTED, INTEGER_ONLY, Table, column_types


@dataclass
class Detection:
    kind: str
    style: str | None
    prompt: str | None
    columns: dict[str, str]
    description: str


def _find(types: dict[str, str], role: str) -> str | None:
    """The first column named like ``role`` (case and spaces ignored); ``types`` maps column -> type."""
    by_name = {c.lower().strip(): c for c in types}
    return next(
        (
            by_name[a]
            for a in ALIASES[role]
            if a in by_name and (a not in INTEGER_ONLY or types[by_name[a]] == "integer")
        ),
        None,
    )


def detect(table: Table) -> Detection:
    types = column_types(table)
    found = {role: col for role in ALIASES if (col := _find(types, role))}
    chats = [c for c, t in types.items() if t == "chat messages"]
    if "messages" not in found and len(chats) == 1 and not {"chosen", "rejected"} & found.keys():
        found.setdefault("messages", chats[0])

    def style(role: str) -> str:
        return "conversational" if types[found[role]] == "chat messages" else "standard"

    if "chosen" in found and "rejected" in found:
        cols = {r: found[r] for r in ("prompt", "chosen", "rejected") if r in found}
        prompt = "explicit" if "prompt" in cols else "implicit"
        fmt = style("chosen")
        extra = ""
        if (
            fmt == "standard"
            and prompt == "implicit"
            and any("Assistant:" in str(r[cols["chosen"]]) for r in table.rows[:50])
        ):
            extra = "; Human/Assistant transcripts"
        return Detection("preference", fmt, prompt, cols, f"Preference pairs ({fmt}, {prompt} prompt{extra})")
    if "prompt" in found and "completion" in found and "label" in found and types[found["label"]] == "boolean":
        return Detection(
            "unpaired_preference",
            style("prompt"),
            None,
            {"prompt": found["prompt"], "completion": found["completion"], "label": found["label"]},
            f"Unpaired preferences (KTO: a completion and whether it is desirable; {style('prompt')})",
        )
    if "prompt" in found and "completion" in found:
        return Detection(
            "prompt_completion",
            style("prompt"),
            None,
            {"prompt": found["prompt"], "completion": found["completion"]},
            f"Prompt-completion pairs ({style('prompt')})",
        )
    if "prompt" in found:
        return Detection("prompt", style("prompt"), None, {"prompt": found["prompt"]}, "Prompts only")
    if "messages" in found:
        return Detection(
            "conversation", "conversational", None, {"messages": found["messages"]}, "Conversations (conversational)"
        )
    if "text" in found and "label" in found:
        n = len({str(r[found["label"]]) for r in table.rows if r[found["label"]] is not None})
        return Detection(
            "labelled_text",
            None,
            None,
            {"text": found["text"], "label": found["label"]},
            f"Labelled text ({n} label{'s' if n != 1 else ''})",
        )
    if "text" in found:
        return Detection("text", "standard", None, {"text": found["text"]}, "Plain text")
    return Detection("unknown", None, None, {}, f"Unknown layout: expected columns such as {EXPECTED}")
