"""Pulling the prompt out of a row: chat turns, prompt-template markers, or a custom marker/regex."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import UserError
from .load import Table, is_chat

# Where a prompt starts. Checked at every position, longest first, so "###Human:" wins over "Human:".
START_MARKERS = ("### Human:", "###Human:", "{{Text}}:", "Human:", "Input=")
# Where it ends: the reply's turn, or the next turn of any kind.
END_MARKERS = ("###", "Assistant:", "Human:", "Output=")
_TURN = re.compile(r"(?:^|\n+)[ \t]*(Human|Assistant):[ \t]?")


@dataclass
class Extraction:
    prompts: list[str | None]
    extracted: int
    skipped: int
    reasons: dict[str, int] = field(default_factory=dict)
    marked: int = 0  # rows where a known marker (or the user's marker/regex) was found


def _find_start(text: str) -> tuple[int, str] | None:
    hits = [(text.find(m), -len(m), m) for m in START_MARKERS if m in text]
    if not hits:
        return None
    pos, _, marker = min(hits)
    return pos, marker


def _cut_at_end(text: str) -> str:
    ends = [text.find(m) for m in END_MARKERS if m in text]
    return text[:min(ends)] if ends else text


def _after_known_marker(text: str) -> str | None:
    """The text after the first known start marker, with nested ones (``###Human: Input= x``) peeled too."""
    found = _find_start(text)
    if found is None:
        return None
    text = text[found[0] + len(found[1]):].lstrip()
    while (found := _find_start(text)) and found[0] == 0:
        text = text[len(found[1]):].lstrip()
    return _cut_at_end(text)


def compile_regex(regex: str) -> re.Pattern:
    try:
        return re.compile(regex, re.DOTALL)
    except re.error as exc:
        raise UserError(f"The regex '{regex}' isn't valid ({exc}): fix it or use a plain marker.") from None


def first_user_turn(messages: list[dict]) -> str | None:
    for message in messages:
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return None


def extract_prompt(value, *, marker: str | None = None, regex: str | None = None) -> tuple[str | None, str | None]:
    """``(prompt, None)`` or ``(None, why it was skipped)`` for one cell."""
    if isinstance(value, list) and is_chat(value):
        text = first_user_turn(value)
        if text is None:
            return None, "no user turn"
        value = text
    if value is None or value == [] or (isinstance(value, str) and not value.strip()):
        return None, "empty text"
    if not isinstance(value, str):
        return None, "not text"
    text = value.replace("\r\n", "\n")
    if regex:
        match = compile_regex(regex).search(text)
        if match is None:
            return None, "marker not found"
        prompt = (match.group(1) if match.re.groups else match.group(0)) or ""
    elif marker:
        if marker not in text:
            return None, "marker not found"
        prompt = _cut_at_end(text.split(marker, 1)[1])
    else:
        prompt = _after_known_marker(text)
        if prompt is None:
            return text.strip(), None
    prompt = prompt.strip()
    return (prompt, None) if prompt else (None, "empty after marker")


def has_marker(value) -> bool:
    return isinstance(value, str) and _find_start(value) is not None


def parse_transcript(text: str) -> list[dict] | None:
    """``"\\n\\nHuman: …\\n\\nAssistant: …"`` as chat messages; None when it isn't a transcript."""
    parts = _TURN.split(text.replace("\r\n", "\n"))
    if len(parts) < 3:
        return None
    messages = [{"role": "system", "content": parts[0].strip()}] if parts[0].strip() else []
    for role, content in zip(parts[1::2], parts[2::2]):
        messages.append({"role": "user" if role == "Human" else "assistant", "content": content.strip()})
    return messages


def split_reply(messages: list[dict]) -> tuple[list[dict], dict] | None:
    """``(messages before the last assistant message, that message)``; None without one."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant":
            return messages[:i], messages[i]
    return None


def preference_prompt(chosen) -> str | list | None:
    """The shared prompt of an implicit-prompt pair, taken from ``chosen``: messages or transcript text."""
    if is_chat(chosen):
        split = split_reply(chosen)
        return split[0] if split else None
    if isinstance(chosen, str):
        text = chosen.replace("\r\n", "\n")
        cut = text.rfind("\n\nAssistant:")
        return text[:cut] if cut >= 0 else None
    return None


def extract_prompts(table: Table, detection, *, column: str | None = None, marker: str | None = None,
                    regex: str | None = None) -> Extraction:
    """Extract a prompt from every row: from ``column`` or the column the detection picked."""
    from .detect import check_column

    if regex:
        compile_regex(regex)
    column = check_column(table, column) if column else None
    role = next((r for r in ("prompt", "text", "messages") if r in detection.columns), None)
    implicit = detection.kind == "preference" and detection.prompt == "implicit"
    if column is None and role is None and not implicit:
        raise UserError("No column to take prompts from: pick one of " + ", ".join(table.columns) + ".")
    prompts, reasons, marked = [], {}, 0
    for row in table.rows:
        if column is None and implicit:
            value = preference_prompt(row.get(detection.columns["chosen"]))
            if value is None:
                prompts.append(None)
                reasons["no user turn"] = reasons.get("no user turn", 0) + 1
                continue
        else:
            value = row.get(column or detection.columns[role])
        prompt, why = extract_prompt(value, marker=marker, regex=regex)
        prompts.append(prompt)
        if why:
            reasons[why] = reasons.get(why, 0) + 1
        found = why != "marker not found" if (marker or regex) else has_marker(value)
        marked += found
    extracted = sum(p is not None for p in prompts)
    return Extraction(prompts, extracted, len(prompts) - extracted, reasons, marked)
