"""A saved dataset's rows and prompts, as the stages and the comparison read them.

A prompt is a string or a chat (a list of ``{"role", "content"}`` messages);
:func:`prompt_text` is what a scorer reads of it. :func:`split_prompts` is the one
held-out split, so PPO, GRPO, RLOO and DPO evaluate on the same prompts for a seed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from ..errors import UserError
from .extract import split_reply
from .formats import is_chat

Prompt = str | list[dict]


def read_rows(dataset: str) -> list[dict[str, Any]]:
    """Rows of a workspace dataset (by name) or of a .jsonl file (by path)."""
    from ..hosting import check_local_path

    path = Path(dataset).expanduser()
    if path.suffix == ".jsonl" or path.is_file():
        check_local_path(path)
        if not path.is_file():
            raise UserError(f"The file {path} doesn't exist.")
        from .load import read_jsonl

        return read_jsonl(path)
    from .store import read_dataset

    return read_dataset(dataset)


def conversation_prompt(messages) -> list[dict] | None:
    """A conversation's turns before its last reply (what the model answers); None without any."""
    split = split_reply(messages) if is_chat(messages) else None
    return split[0] if split and split[0] else None


def _prompt_of(row: dict[str, Any]) -> Prompt | None:
    """The row's 'prompt'; for a conversation, the turns before its last reply."""
    if isinstance(row.get("prompt"), (str, list)) and row["prompt"]:
        return row["prompt"]
    return conversation_prompt(row.get("messages"))


def prompt_column(rows: list[dict[str, Any]]) -> list[Prompt]:
    """The prompts of ``rows``: plain strings or chat message lists (a conversation's turns before its reply)."""
    return [prompt for prompt in map(_prompt_of, rows) if prompt]


def load_prompts(dataset: str) -> list[Prompt]:
    """The 'prompt' column of a dataset; UserError when it has none."""
    rows = read_rows(dataset)
    prompts = prompt_column(rows)
    if not prompts:
        columns = ", ".join(sorted(rows[0])) if rows else "none, it is empty"
        raise UserError(
            f"The dataset '{dataset}' has no prompts: PPO needs a 'prompt' column (its columns: {columns})."
        )
    return prompts


def read_prompts(dataset: str, method: str) -> list[Prompt]:
    """The dataset's prompts, or a UserError that says which kind of dataset ``method`` needs."""
    try:
        return load_prompts(dataset)
    except UserError as exc:
        if "no prompts" not in str(exc):
            raise
        raise UserError(
            f"'{dataset}' has no 'prompt' column, and {method} needs prompts to answer. Pick a "
            "prompt dataset, or a preference dataset with an explicit prompt (save it from the "
            "Data tab, which extracts prompts)."
        ) from None


def prompt_text(prompt: Prompt) -> str:
    """What a scorer reads as the prompt: the text, or the last user turn of a chat."""
    if isinstance(prompt, str):
        return prompt
    users = [m.get("content", "") for m in prompt if m.get("role") == "user"]
    return str(users[-1] if users else prompt[-1].get("content", ""))


def split_prompts(prompts: list, n_eval: int, seed: int) -> tuple[list, list]:
    """``(train, eval)``: ``n_eval`` prompts held out when at least as many remain for training."""
    order = list(prompts)
    random.Random(seed).shuffle(order)
    if 0 < n_eval and len(order) >= 2 * n_eval:
        return order[n_eval:], order[:n_eval]
    return order, order[:n_eval]  # too few to hold out: evaluate on training prompts
