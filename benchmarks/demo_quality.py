"""Does the demo show a real gain? Runs ``python -m rlhf_playground demo`` and reads what it found.

In a fresh workspace (the model cache is kept), with the demo's defaults plus any ``demo`` options given
after ``--``. Prints each stage's time, then per model and scorer (the judge, VADER and the training
reward) the mean and the win rate against the base with its 95% interval, distinct-2 and the share of the
commonest three-word opening, and the targets of issue 36 met or not; ``--save FILE`` keeps the comparison's
results.json (every answer and score). Usage:
    python benchmarks/demo_quality.py [--save FILE] [-- --ppo-steps 12 ...]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_WINS = 0.7


def main() -> None:
    extra = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    ours = sys.argv[1 : sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
    save = Path(ours[ours.index("--save") + 1]) if "--save" in ours else None
    with tempfile.TemporaryDirectory() as workspace:
        env = {**os.environ, "RLHF_WORKSPACE": workspace}
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "rlhf_playground", "demo", *extra], cwd=ROOT, env=env, capture_output=True, text=True
        )
        wall = time.monotonic() - began
        if done.returncode:
            sys.exit(f"the demo failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        report(Path(workspace), wall, extra)
        if save:  # the comparison with every answer and score, to read later
            (compare,) = Path(workspace).glob("runs/*-compare-*/artifacts/results.json")
            shutil.copy(compare, save)


def report(workspace: Path, wall: float, extra: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from rlhf_playground.evaluation.compare import examples_markdown, load_result

    runs = {p.name: json.loads((p / "status.json").read_text()) for p in (workspace / "runs").iterdir()}
    demo = next(s for s in runs.values() if s.get("stage") == "demo")
    times = {stage: runs[run_id]["ended"] - runs[run_id]["started"] for stage, run_id in demo["children"].items()}
    result = load_result(workspace / "runs" / demo["children"]["compare"] / "artifacts" / "results.json")
    summary = result.summary()
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"demo {' '.join(extra) or '(defaults)'}: {wall / 60:.1f} min wall clock; load {load}")
    print("stages: " + ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in times.items()))
    measures = summary["scorers"] + ([summary["reward"]] if summary["reward"] else [])
    print("| model | " + " | ".join(measures) + " | distinct-2 | top opening | relevance |")
    print("|---" * (len(measures) + 4) + "|")
    for name, entry in summary["models"].items():
        cells = []
        for scorer in measures:
            by = entry["by"][scorer]
            cell = f"{by['mean']:+.3f}"
            if by["win_rate"] is not None:
                cell += f", wins {by['win_rate']:.0%} ({by['interval'][0]:.0%}–{by['interval'][1]:.0%})"
            cells.append(cell)
        opening = f"{entry['top_opening_share']:.0%} '{entry['top_opening']}'"
        relevance = "n/a" if entry["relevance"] is None else f"{entry['relevance']:.2f}"
        print(f"| {name} | " + " | ".join(cells) + f" | {entry['distinct_2']:.2f} | {opening} | {relevance} |")
    ppo, base = summary["models"]["PPO"], summary["models"]["base"]
    checks = {
        f"PPO wins >= {TARGET_WINS:.0%} by {scorer}": (ppo["by"][scorer]["win_rate"] or 0) >= TARGET_WINS
        for scorer in measures
    }
    for scorer in summary["scorers"]:  # head to head, prompt by prompt
        wins, n = result.wins("PPO", scorer, against="SFT")
        checks[f"PPO beats SFT by {scorer} ({wins / max(n, 1):.0%} of prompts)"] = wins / max(n, 1) > 0.5
    checks["distinct-2 >= 0.9x base"] = ppo["distinct_2"] >= 0.9 * base["distinct_2"]
    checks["no opening in > 25% of answers"] = ppo["top_opening_share"] <= 0.25
    checks["relevance >= 0.9x base"] = (ppo["relevance"] or 0) >= 0.9 * (base["relevance"] or 0)
    checks["<= 5 min"] = wall <= 300
    print(examples_markdown(result))
    print("targets: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items()))


if __name__ == "__main__":
    main()
