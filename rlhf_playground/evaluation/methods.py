"""Method comparison: what PPO, GRPO, RLOO and DPO runs reached, and how long each took.

Every one of these stages writes ``artifacts/eval.json`` with the mean reward of greedy
answers to held-out prompts before and after training. Those numbers only compare when
the runs share a base model, the held-out prompts (dataset, how many, seed) and the
reward that scored them, so rows carry a ``group`` label made of exactly those, and
:func:`compare` returns one group at a time. Wall clock is the run's ``ended - started``
(loading, both evaluations and training), i.e. what a person waited for.

A fair comparison also needs the same work from each method, so every row counts the
answers (or, for DPO, pairs) it trained on and the optimizer updates it made, and a run
that gained nothing says why in a sentence read from its own metrics.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ..jobs import list_runs
from ..jobs.runs import Run, read_json
from ..registry import METHODS

COLUMNS = [
    "run",
    "method",
    "base model",
    "trained on",
    "held-out prompts",
    "reward",
    "steps",
    "answers sampled",
    "updates",
    "reward before",
    "reward after",
    "gain",
    "wall clock (s)",
    "gain per minute",
    "why no gain",
]
BARELY_MOVED_KL = 0.5  # a KL to the reference per answer below this after training: the policy hardly changed


def _base(config: dict) -> str:
    model = config.get("model") or "default"
    return f"{model} + {config['adapter']}" if config.get("adapter") else model


def _held_out(stage: str, config: dict, evaluation: dict) -> str:
    """Which prompts were held out: PPO, GRPO and RLOO split their dataset; DPO its eval_dataset (or its pairs)."""
    source = (config.get("eval_dataset") or config.get("dataset")) if stage == "dpo" else config.get("dataset")
    return f"{evaluation.get('held_out_prompts')} of {source}, seed {config.get('seed')}"


def budget(stage: str, config: dict, steps: int | None) -> tuple[int | None, int | None]:
    """``(answers or pairs trained on, optimizer updates)`` of a run that reached ``steps``."""
    if not steps:
        return None, None
    batch = config.get("batch_size") or 0
    mini_batches = batch // max(config.get("mini_batch_size") or batch, 1)
    if stage == "ppo":  # steps are batches: each serves mini-batches x epochs updates
        return steps * batch, steps * mini_batches * (config.get("ppo_epochs") or 1)
    if stage == "dpo":  # steps are updates of batch_size pairs
        return steps * batch, steps
    per_batch = mini_batches * (config.get("num_iterations") or 1)
    return -(-steps // max(per_batch, 1)) * batch, steps  # GRPO/RLOO: steps are updates; batches are shared


def _thirds(values: list[float]) -> tuple[float, float] | None:
    """Mean of the first and of the last third of ``values`` (None with fewer than 3)."""
    if len(values) < 3:
        return None
    third = len(values) // 3
    return sum(values[:third]) / third, sum(values[-third:]) / third


def kls_per_answer(stage: str, metrics: list[dict[str, Any]]) -> list[float]:
    """Each logged KL to the reference, per answer. PPO logs it so; TRL's GRPO and RLOO log it per token, so theirs
    is scaled by the answers' mean length (24 tokens of 0.15 each are 3.6 nats: far from "barely moved"), which
    TRL logs only on the steps that sampled: the latest one seen counts."""
    found, length = [], 1.0
    for m in metrics:
        length = m.get("completions/mean_length", length)
        if isinstance(m.get("kl"), (int, float)):
            found.append(m["kl"] if stage == "ppo" else m["kl"] * length)
    return found


def why_no_gain(stage: str, metrics: list[dict[str, Any]]) -> str:
    """One sentence on why a run's held-out reward did not rise, from its logged KL and training reward."""
    if stage == "dpo":
        return (
            "DPO never sees this reward: it learns the pairs' choices, so this score says nothing of how well it "
            "learnt them."
        )
    key = "reward_mean" if stage == "ppo" else "reward"
    rewards = [m[key] for m in metrics if isinstance(m.get(key), (int, float))]
    kls = kls_per_answer(stage, metrics)
    if kls and abs(kls[-1]) < BARELY_MOVED_KL:
        return (
            f"its KL to the reference ended at {kls[-1]:.2f} per answer: the policy barely moved, so the held-out "
            "answers changed by chance; give it more steps or a higher learning rate."
        )
    thirds = _thirds(rewards)
    if thirds and thirds[1] <= thirds[0]:
        return (
            f"its training reward did not rise ({thirds[0]:+.2f} in the first third of training, {thirds[1]:+.2f} in "
            "the last): the updates found no direction the reward prefers; try a higher learning rate or more "
            "answers per prompt."
        )
    if thirds:
        return (
            f"its training reward rose ({thirds[0]:+.2f} → {thirds[1]:+.2f}) but the held-out prompts did not follow: "
            "it fitted the training prompts' answers rather than what the reward rewards; try more prompts."
        )
    return "it logged too few steps to tell why; run it for more steps."


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
    answers, updates = budget(stage, config, summary.get("step"))
    row = {
        "run": summary["id"],
        "method": stage.upper(),
        "base model": _base(config),
        "trained on": config.get("dataset"),
        "held-out prompts": _held_out(stage, config, evaluation),
        "reward": evaluation.get("reward"),
        "steps": summary.get("step"),
        "answers sampled": answers,
        "updates": updates,
        "reward before": before,
        "reward after": after,
        "gain": gain,
        "wall clock (s)": round(wall, 1) if wall is not None else None,
        "gain per minute": gain / (wall / 60) if gain is not None and wall else None,
        "why no gain": why_no_gain(stage, Run(path).metrics()) if gain is not None and gain <= 0 else "",
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
    """The rows as a Markdown table (method, answers, updates, wall clock, held-out reward before → after, gain per
    minute), then a line for each run that gained nothing, saying why."""
    lines = [
        "| method | answers sampled | updates | wall clock | held-out reward before → after | gain per minute |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        wall = f"{r['wall clock (s)'] / 60:.1f} min" if r["wall clock (s)"] is not None else "?"
        before = f"{r['reward before']:+.3f}" if r["reward before"] is not None else "?"
        per_minute = f"{r['gain per minute']:+.4f}" if r["gain per minute"] is not None else "?"
        after = f"{r['reward after']:+.3f}"
        lines.append(
            f"| {r['method']} | {r['answers sampled']} | {r['updates']} | {wall} | {before} → {after} | {per_minute} |"
        )
    notes = [f"- {r['method']} gained nothing: {r['why no gain']}" for r in rows if r["why no gain"]]
    return "\n".join(lines + ([""] + notes if notes else []))
