"""Pulling the prompt out of a row: chat turns, prompt-template markers, or a custom marker/regex."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import regex as user_regex  # matches with a time limit: a person's pattern must not freeze the server

from ..errors import UserError
from ..hosting import setting
from .formats import Table, check_column, is_chat

REGEX_SECONDS = ("RLHF_REGEX_SECONDS", 1.0)  # the longest one match of a person's regex may take

# Where a prompt starts: the first one in the text, the longest where two start at the same place.
# "###Human:" has its own entry so a nested one ("{{Text}}: ###Human: x") is peeled off whole.
START_MARKERS = ("### Human:", "###Human:", "{{Text}}:", "Human:", "Input=")
# Where it ends: the reply's turn, or the next turn of any kind ("###Assistant:", "### Response:"...).
# A bare "###" (a markdown heading inside the prompt) doesn't end it.
_END = re.compile(r"###\s*\w+:|Assistant:|Human:|Output=")
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
    end = _END.search(text)
    return text[: end.start()] if end else text


def _after_known_marker(text: str) -> str | None:
    """The text after the first known start marker, with nested ones (``###Human: Input= x``) peeled too."""
    found = _find_start(text)
    if found is None:
        return None
    text = text[found[0] + len(found[1]) :].lstrip()
    while (found := _find_start(text)) and found[0] == 0:
        text = text[len(found[1]) :].lstrip()
    return _cut_at_end(text)


def compile_regex(regex: str) -> user_regex.Pattern:
    try:
        return user_regex.compile(regex, user_regex.DOTALL)
    except user_regex.error as exc:
        raise UserError(f"The regex '{regex}' isn't valid ({exc}): fix it or use a plain marker.") from None


def _too_slow(row: int | None) -> UserError:
    where = f" on row {row}" if row is not None else ""
    return UserError(
        f"This regex takes too long{where}: simplify it (nested repeats such as (a|a)+ can take "
        "forever) or use a plain marker."
    )


def first_user_turn(messages: list[dict]):
    """The content of the first user message (None without one); not always a string."""
    for message in messages:
        if message.get("role") == "user":
            return message.get("content")
    return None


def extract_prompt(
    value, *, marker: str | None = None, regex: str | None = None, row: int | None = None
) -> tuple[str | None, str | None]:
    """``(prompt, None)`` or ``(None, why it was skipped)`` for one cell (``row``: its number, for errors).

    A regex gets ``RLHF_REGEX_SECONDS`` per cell; one that needs longer is refused.
    """
    if is_chat(value):
        if not any(m.get("role") == "user" for m in value):
            return None, "no user turn"
        value = first_user_turn(value)
    if value is None or value == [] or (isinstance(value, str) and not value.strip()):
        return None, "empty text"
    if not isinstance(value, str):
        return None, "not text"
    text = value.replace("\r\n", "\n")
    if regex:
        try:
            match = compile_regex(regex).search(text, timeout=setting(*REGEX_SECONDS))
        except TimeoutError:
            raise _too_slow(row) from None
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


def shared_prefix(a: str, b: str) -> str:
    """The longest common start of ``a`` and ``b``, cut back to whole words so no reply starts mid-word."""
    n = len(os.path.commonprefix([a, b]))
    while n and not a[n - 1].isspace():
        n -= 1
    return a[:n]


def preference_prompt(chosen, rejected) -> tuple[str | list | None, str | None]:
    """``(prompt, None)`` or ``(None, why not)`` for an implicit-prompt pair: the messages before the
    last reply in ``chosen`` (transcript strings are parsed into messages first), or else the shared
    prefix of two plain strings."""
    if isinstance(chosen, str):
        messages = parse_transcript(chosen)
        if messages is None:
            prefix = shared_prefix(chosen, rejected) if isinstance(rejected, str) else ""
            return (prefix, None) if prefix.strip() else (None, "no shared prompt")
        chosen = messages
    if not is_chat(chosen):
        return None, "not text"
    split = split_reply(chosen)
    if split is None:
        return None, "no assistant reply"
    return (split[0], None) if split[0] else (None, "no user turn")


def extract_prompts(
    table: Table, detection, *, column: str | None = None, marker: str | None = None, regex: str | None = None
) -> Extraction:
    """Extract a prompt from every row: from ``column`` or the column the detection picked."""
    if regex:
        compile_regex(regex)
    column = check_column(table, column) if column else None
    role = next((r for r in ("prompt", "text", "messages") if r in detection.columns), None)
    implicit = detection.kind == "preference" and detection.prompt == "implicit"
    if column is None and role is None and not implicit:
        raise UserError("No column to take prompts from: pick one of " + ", ".join(table.columns) + ".")
    prompts, reasons, marked = [], {}, 0
    for number, row in enumerate(table.rows, 1):
        if column is None and implicit:
            value, why = preference_prompt(row.get(detection.columns["chosen"]), row.get(detection.columns["rejected"]))
            if value is None:
                prompts.append(None)
                reasons[why] = reasons.get(why, 0) + 1
                continue
        else:
            value = row.get(column or detection.columns[role])
        prompt, why = extract_prompt(value, marker=marker, regex=regex, row=number)
        prompts.append(prompt)
        if why:
            reasons[why] = reasons.get(why, 0) + 1
        found = why != "marker not found" if (marker or regex) else has_marker(value)
        marked += found
    extracted = sum(p is not None for p in prompts)
    return Extraction(prompts, extracted, len(prompts) - extracted, reasons, marked)
