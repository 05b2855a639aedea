"""Preference pairs as the reward model and DPO read them: (prompt, chosen, rejected) triples.

Any of TRL's preference formats is accepted (explicit prompt, conversational, or an
hh-rlhf transcript whose prompt hides inside chosen/rejected). Unusable rows are
dropped and counted by reason, never silently.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import UserError
from .formats import is_text_chat
from .prompts import read_rows

TRANSCRIPT_REPLY = "\n\nAssistant:"  # in an hh-rlhf transcript the reply follows the last one


def _is_text(value) -> bool:
    """Nothing, a string or a list of chat messages with string contents: what the chat template and the
    tokenizer can take. Numbers, objects or other lists in a .jsonl file are dropped as "not text"."""
    return value is None or isinstance(value, str) or value == [] or is_text_chat(value)


def _text(value) -> str:
    if isinstance(value, list):
        return value[-1].get("content", "") if value and isinstance(value[-1], dict) else ""
    return value if isinstance(value, str) else ""


def split_pair(row: dict) -> tuple[Any, str, str]:
    """(prompt, chosen answer, rejected answer) of one row, in any TRL preference format.

    The prompt is a list of messages (conversational) or a string; implicit-prompt rows
    carry it inside chosen/rejected: everything before the final assistant message, or,
    for plain strings, the shared transcript up to the last "Assistant:" (without one,
    nothing: the whole text is the answer).
    """
    chosen, rejected = row.get("chosen"), row.get("rejected")
    if row.get("prompt") is not None:
        return row["prompt"], _text(chosen), _text(rejected)
    if isinstance(chosen, list):
        return chosen[:-1], _text(chosen), _text(rejected)
    if not isinstance(chosen, str) or not isinstance(rejected, str):
        return "", _text(chosen), _text(rejected)
    head = chosen[: chosen.rfind(TRANSCRIPT_REPLY) + len(TRANSCRIPT_REPLY)] if TRANSCRIPT_REPLY in chosen else ""
    if head and rejected.startswith(head):
        return head, chosen[len(head) :], rejected[len(head) :]
    return "", chosen, rejected


def read_pairs(
    dataset: str,
    learner: str = "a reward model",
    *,
    rows: list[dict] | None = None,
) -> tuple[list[tuple[Any, str, str]], Counter]:
    """Usable (prompt, chosen, rejected) triples and the count of dropped rows by reason.

    ``learner`` names who needs the pairs in the message for a dataset that has none;
    ``rows``, when given, are the dataset's rows already read.
    """
    rows = read_rows(dataset) if rows is None else rows
    if rows and not all(k in rows[0] for k in ("chosen", "rejected")):
        raise UserError(
            f"'{dataset}' has no chosen/rejected columns (it has {', '.join(rows[0])}): "
            f"{learner} learns from preference pairs. Pick a preference dataset; prompt datasets are "
            "for PPO, GRPO and RLOO."
        )
    pairs, dropped = [], Counter()
    for row in rows:
        if not all(_is_text(row.get(key)) for key in ("prompt", "chosen", "rejected")):
            dropped["not text"] += 1
            continue
        prompt, chosen, rejected = split_pair(row)
        if not chosen.strip() or not rejected.strip():
            dropped["empty response"] += 1
        elif chosen.strip() == rejected.strip():
            dropped["chosen equals rejected"] += 1
        else:
            pairs.append((prompt, chosen, rejected))
    return pairs, dropped


def describe_dropped(dropped: Counter) -> str:
    """E.g. 'dropped 3 pairs: chosen equals rejected (2), empty response (1)'."""
    total = sum(dropped.values())
    reasons = ", ".join(f"{why} ({n})" for why, n in dropped.most_common())
    return f"dropped {total} pair{'' if total == 1 else 's'}: {reasons}" if total else "dropped no pairs"
