"""Compare as a job: :func:`rlhf_playground.evaluation.compare.compare` with a run folder, progress and a CSV."""

from __future__ import annotations

import json
from typing import Any

from ..evaluation.compare import CompareConfig, compare

STAGE = "compare"


def run(config: CompareConfig, run) -> dict[str, Any]:
    """Compare as a job: progress in status.json, ``results.json`` and ``table.csv`` in the run's artifacts.

    The summary is printed as the last JSON line of the output, for scripts.
    """
    from ..jobs.execute import StopNow

    def progress(message: str, done: int, total: int) -> None:
        if run.stop_requested():
            raise StopNow()
        run.update_status(step=done, total_steps=total)
        print(f"[{done}/{total}] {message}", flush=True)

    result = compare(config, progress)
    outcome = {"csv": str(result.to_csv(run.artifacts / "table.csv"))}
    if config.out:
        outcome["out"] = [str(result.to_csv(f"{config.out}.csv")), str(result.to_json(f"{config.out}.json"))]
    outcome["results"] = str(result.to_json(run.artifacts / "results.json"))  # last: its presence means done
    steps = len(result.models) + 1
    run.update_status(step=steps, total_steps=steps)
    print(json.dumps(result.summary()), flush=True)
    return outcome
