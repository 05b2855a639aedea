"""Method comparison: what PPO, GRPO, RLOO and DPO runs reached, and how long each took.

Every one of these stages writes ``artifacts/eval.json`` with the mean reward of greedy
answers to held-out prompts before and after training. Those numbers only compare when
the runs share a base model, the held-out prompts (dataset, how many, seed) and the
reward that scored them, so rows carry a ``group`` label made of exactly those, and
:func:`compare` returns one group at a time. Wall clock is the run's ``ended - started``
(loading, both evaluations and training), i.e. what a person waited for.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .jobs import list_runs
from .jobs.runs import Run, read_json
from .registry import METHODS

COLUMNS = [
    "run",
    "method",
    "base model",
    "trained on",
    "held-out prompts",
    "reward",
    "steps",
    "reward before",
    "reward after",
    "gain",
    "wall clock (s)",
    "gain per minute",
]


def _base(config: dict) -> str:
    model = config.get("model") or "default"
    return f"{model} + {config['adapter']}" if config.get("adapter") else model


def _held_out(stage: str, config: dict, evaluation: dict) -> str:
    """Which prompts were held out: PPO, GRPO and RLOO split their dataset; DPO its eval_dataset (or its pairs)."""
    source = (config.get("eval_dataset") or config.get("dataset")) if stage == "dpo" else config.get("dataset")
    return f"{evaluation.get('held_out_prompts')} of {source}, seed {config.get('seed')}"


def method_row(summary: dict[str, Any]) -> dict[str, Any] | None:
    """One comparison row for a finished run with an eval.json (a :func:`list_runs` summary); None otherwise."""
    path = Path(summary["path"])
    evaluation = Run(path).read_eval()
    if summary.get("state") != "finished" or not evaluation or evaluation.get("reward_after") is None:
        return None
    config, stage = read_json(path / "config.json", {}), summary["stage"]
    before, after = evaluation.get("reward_before"), evaluation["reward_after"]
    gain = after - before if before is not None else None
    wall = (summary["ended"] - summary["started"]) if summary.get("ended") and summary.get("started") else None
    row = {
        "run": summary["id"],
        "method": stage.upper(),
        "base model": _base(config),
        "trained on": config.get("dataset"),
        "held-out prompts": _held_out(stage, config, evaluation),
        "reward": evaluation.get("reward"),
        "steps": summary.get("step"),
        "reward before": before,
        "reward after": after,
        "gain": gain,
        "wall clock (s)": round(wall, 1) if wall is not None else None,
        "gain per minute": gain / (wall / 60) if gain is not None and wall else None,
    }
    row["group"] = f"{row['base model']} · {row['held-out prompts']} · {row['reward']}"
    return row


def method_rows(stages: tuple[str, ...] = METHODS) -> list[dict[str, Any]]:
    """Comparison rows for every finished run of ``stages`` in the workspace, newest first."""
    rows = [method_row(summary) for summary in list_runs() if summary.get("stage") in stages]
    return [row for row in rows if row]


def groups(rows: list[dict[str, Any]]) -> list[str]:
    """Group labels, the one with the most methods (then the most runs) first."""
    methods = {label: len({r["method"] for r in rows if r["group"] == label}) for label in {r["group"] for r in rows}}
    runs = Counter(r["group"] for r in rows)
    return sorted(methods, key=lambda label: (-methods[label], -runs[label], label))


def compare(group: str | None = None, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"groups": labels, "group": the chosen one, "rows": its rows}``; the first group when none is given.

    Within a group the rows are sorted by reward reached, best first.
    """
    rows = method_rows() if rows is None else rows
    labels = groups(rows)
    chosen = group if group in labels else (labels[0] if labels else None)
    picked = sorted((r for r in rows if r["group"] == chosen), key=lambda r: -r["reward after"])
    return {"groups": labels, "group": chosen, "rows": picked}


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table: method, steps, wall clock, held-out reward before → after, gain per minute."""
    lines = [
        "| method | steps | wall clock | held-out reward before → after | gain per minute |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        wall = f"{r['wall clock (s)'] / 60:.1f} min" if r["wall clock (s)"] is not None else "?"
        before = f"{r['reward before']:+.3f}" if r["reward before"] is not None else "?"
        per_minute = f"{r['gain per minute']:+.4f}" if r["gain per minute"] is not None else "?"
        after = f"{r['reward after']:+.3f}"
        lines.append(f"| {r['method']} | {r['steps']} | {wall} | {before} → {after} | {per_minute} |")
    return "\n".join(lines)
