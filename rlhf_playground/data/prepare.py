"""Normalising a table into one of TRL's dataset formats, counting every row left out and why."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from ..errors import UserError
from .detect import Detection, detect
from .extract import Extraction, extract_prompts, parse_transcript, shared_prefix, split_reply
from .formats import EXPECTED, Table, check_column, is_chat, is_text_chat
from .load import is_bundled, load_sample

# Which role a user-chosen column stands for, by detected kind.
_COLUMN_ROLE = {
    "prompt": "prompt",
    "prompt_completion": "prompt",
    "unpaired_preference": "prompt",
    "preference": "prompt",
    "conversation": "messages",
    "labelled_text": "text",
    "text": "text",
}


@dataclass
class Prepared:
    rows: list[dict]
    kind: str
    detection: Detection
    extraction: Extraction | None
    dropped: dict[str, int]
    source: str = ""
    source_rows: int = 0
    label_names: list[str] | None = None
    format: str | None = None
    shared_as: tuple | None = None  # a bundled sample's shared result: the arguments of prepared_sample

    def summary(self) -> dict:
        ext = self.extraction
        return {
            "rows": len(self.rows),
            "source_rows": self.source_rows,
            "kind": self.kind,
            "format": self.format,
            "prompts_extracted": ext.extracted if ext else None,
            "skipped": ext.skipped if ext else 0,
            "skip_reasons": dict(ext.reasons) if ext else {},
            "dropped": dict(self.dropped),
        }


def _count(dropped: dict, why: str) -> None:
    """Count a left-out row; returns None so ``return _count(...)`` reads as "drop this row"."""
    dropped[why] = dropped.get(why, 0) + 1


def _with_column(table: Table, found: Detection, column: str) -> Detection:
    """The detection with the user's column in the role it plays (unknown layouts become plain text)."""
    check_column(table, column)
    if found.kind == "unknown":
        return Detection("text", "standard", None, {"text": column}, "Plain text")
    if found.kind == "preference" and column in (found.columns["chosen"], found.columns["rejected"]):
        return found
    role = _COLUMN_ROLE[found.kind]
    prompt = "explicit" if found.kind == "preference" else found.prompt
    return replace(found, columns={**found.columns, role: column}, prompt=prompt)


def _blank(value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _as_chat(row: dict) -> dict:
    """A standard (string) pair as a conversational one, so one dataset never mixes the two."""
    if isinstance(row["chosen"], list):
        return row
    return {
        "prompt": [{"role": "user", "content": row["prompt"].strip()}],
        "chosen": [{"role": "assistant", "content": row["chosen"].strip()}],
        "rejected": [{"role": "assistant", "content": row["rejected"].strip()}],
    }


def _pair(chosen, rejected, prompt, dropped: dict) -> dict | None:
    """One preference row in TRL's explicit-prompt format, or None (counted in ``dropped``).

    ``prompt`` is the prompt column's value, None for implicit pairs. Transcript strings become
    messages, other implicit strings split at their shared prefix. Conversations split before their
    last reply and what comes before is the prompt, so a prompt column that only repeats the user
    turn (ultrafeedback-style data) isn't added twice.
    """
    if _blank(chosen) or _blank(rejected):
        return _count(dropped, "empty response")
    if prompt is None and isinstance(chosen, str) and isinstance(rejected, str):
        a, b = parse_transcript(chosen), parse_transcript(rejected)
        if a is None and b is None:
            prompt = shared_prefix(chosen, rejected)
            if not prompt.strip():
                return _count(dropped, "no shared prompt")
            chosen, rejected = chosen[len(prompt) :], rejected[len(prompt) :]
        elif a is None or b is None:
            return _count(dropped, "different prompts")
        else:
            chosen, rejected = a, b
    if is_chat(chosen) and is_chat(rejected):
        a, b = split_reply(chosen), split_reply(rejected)
        if a is None or b is None:
            return _count(dropped, "no assistant reply")
        if a[0] != b[0]:
            return _count(dropped, "different prompts")
        if a[0]:
            starts_with_prompt = not is_chat(prompt) or a[0][: len(prompt)] == prompt
            prompt = a[0] if starts_with_prompt else prompt + a[0]
        elif prompt is None:
            return _count(dropped, "no user turn")
        elif isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        chosen, rejected = [a[1]], [b[1]]
    elif isinstance(chosen, str) and isinstance(rejected, str):
        if is_chat(prompt):
            chosen = [{"role": "assistant", "content": chosen}]
            rejected = [{"role": "assistant", "content": rejected}]
    else:
        return _count(dropped, "not text")
    if not all(is_text_chat(v) for v in (prompt, chosen, rejected) if isinstance(v, list)):
        return _count(dropped, "not text")  # a number for content: the chat template would fail on it
    replies = [r[0]["content"] if isinstance(r, list) else r for r in (chosen, rejected)]
    if not all(isinstance(t, str) and t.strip() for t in replies):
        return _count(dropped, "empty response")
    if chosen == rejected:
        return _count(dropped, "chosen same as rejected")
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def _labels(values: list) -> tuple[list[int | None], list[str] | None]:
    """Integer labels as they are; anything else mapped to 0..n-1 in sorted order."""
    present = [v for v in values if v is not None and v != ""]
    if all(isinstance(v, (bool, int)) or (isinstance(v, float) and v.is_integer()) for v in present):
        return [None if v is None or v == "" else int(v) for v in values], None
    names = sorted({str(v) for v in present})
    index = {n: i for i, n in enumerate(names)}
    return [None if v is None or v == "" else index[str(v)] for v in values], names


def prepare(
    table: Table, *, column: str | None = None, marker: str | None = None, regex: str | None = None
) -> Prepared:
    """``table`` in TRL's format, its prompts extracted (by ``column``, ``marker`` or ``regex`` when given).

    A bundled sample is prepared once per process and setting: the result is shared, read-only.
    """
    if is_bundled(table):
        return prepared_sample(table.sample, column, marker, regex)
    return _prepare(table, column=column, marker=marker, regex=regex)


@functools.lru_cache(maxsize=16)
def prepared_sample(sample: tuple[str, int | None], column, marker, regex) -> Prepared:
    """The bundled ``sample`` (name, row limit) prepared with these settings, once per process; shared."""
    name, limit = sample
    result = _prepare(load_sample(name, limit=limit), column=column, marker=marker, regex=regex)
    return replace(result, shared_as=(sample, column, marker, regex))


def _prepare(table: Table, *, column: str | None, marker: str | None, regex: str | None) -> Prepared:
    found = detect(table)
    if column:
        found = _with_column(table, found, column)
    if found.kind == "unknown":
        raise UserError(
            f"Can't tell what this dataset holds (columns: {', '.join(table.columns)}). "
            f"Expected columns such as {EXPECTED}, or pick the text column."
        )
    cols, kind, fmt, names = found.columns, found.kind, found.style, None
    rows: list[dict] = []
    dropped: dict[str, int] = {}
    extraction = extract_prompts(table, found, marker=marker, regex=regex)

    if kind == "text" and (marker or regex or extraction.marked * 2 > len(table.rows)):
        kind = "prompt"  # templated text, or a marker given: the prompts are what is worth keeping
    if kind == "prompt":
        rows, fmt = [{"prompt": p} for p in extraction.prompts if p is not None], "standard"
    elif kind == "preference":
        for row in table.rows:
            prompt = row.get(cols["prompt"]) if "prompt" in cols else None
            if "prompt" in cols and not (isinstance(prompt, str) and prompt.strip()) and not is_chat(prompt):
                _count(dropped, "empty prompt" if _blank(prompt) or isinstance(prompt, str) else "not text")
                continue
            pair = _pair(row.get(cols["chosen"]), row.get(cols["rejected"]), prompt, dropped)
            if pair:
                rows.append(pair)
        fmt = "conversational" if any(isinstance(r["chosen"], list) for r in rows) else "standard"
        if fmt == "conversational":
            rows = [_as_chat(r) for r in rows]
    elif kind in ("prompt_completion", "unpaired_preference"):
        for row, prompt in zip(table.rows, extraction.prompts):
            completion = row.get(cols["completion"])
            label = {"label": row.get(cols["label"])} if "label" in cols else {}
            if label and not isinstance(label["label"], bool):
                _count(dropped, "missing label")
                continue
            if fmt == "conversational":
                if not (is_text_chat(row.get(cols["prompt"])) and is_text_chat(completion)):
                    _count(dropped, "not chat messages")
                    continue
                rows.append({"prompt": row[cols["prompt"]], "completion": completion, **label})
            elif prompt is None:
                continue
            elif not (isinstance(completion, str) and completion.strip()):
                _count(dropped, "empty response")
            else:
                rows.append({"prompt": prompt, "completion": completion.strip(), **label})
    elif kind == "conversation":
        for row in table.rows:
            messages = row.get(cols["messages"])
            if is_text_chat(messages):
                rows.append({"messages": messages})
            else:
                _count(dropped, "not chat messages")
    else:  # text, labelled_text: the text itself, not an extracted prompt
        labels, names = _labels([row.get(cols["label"]) for row in table.rows]) if "label" in cols else (None, None)
        for i, row in enumerate(table.rows):
            text = row.get(cols["text"])
            if not isinstance(text, str) or not text.strip():
                _count(dropped, "empty text" if text in (None, "") or isinstance(text, str) else "not text")
            elif labels is not None and labels[i] is None:
                _count(dropped, "missing label")
            else:
                rows.append({"text": text.strip()} | ({"label": labels[i]} if labels is not None else {}))
        extraction, fmt = None, "standard" if kind == "text" else None

    if not rows:
        reasons = {**(extraction.reasons if extraction else {}), **dropped}
        why = ", ".join(f"{k} ({n})" for k, n in reasons.items()) or "the table is empty"
        raise UserError(f"No usable rows: {why}. Check the column, marker or regex.")
    return Prepared(rows, kind, found, extraction, dropped, table.source, len(table.rows), names, fmt)
