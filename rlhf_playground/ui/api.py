"""Endpoints for scripts (``gradio_client``): the runs of your workspace, a run's status, metrics and
artifacts, and the run as one zip. Each tab's ``<stage>_start`` returns ``(message, run id)``.

On a shared app each call sees only the caller's own workspace, like the page (the session cookie,
or, without one, a workspace of that connection's own).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..errors import UserError
from ..jobs import list_runs, open_run
from ..workspace import RUN_ID
from .take_home import offer_run_zip

ARTIFACT_JSON = ("eval.json", "samples.json", "results.json")  # returned as they are (results: Compare)


def _run(run_id: str):
    if not RUN_ID.match((run_id or "").strip()):
        raise gr.Error(f"'{run_id}' isn't a run id such as 20261202-010203-sft-ab12: list them with /runs.")
    try:
        return open_run(run_id.strip())
    except UserError:  # its message names the folder: a path of the server
        raise gr.Error(f"No run {run_id.strip()} in your workspace: list yours with /runs.") from None


def runs(stage: str = "") -> list[dict[str, Any]]:
    """The runs of your workspace, newest first; only one stage's (sft, reward, ppo, …) when ``stage`` is given."""
    # without each row's folder: a client would read {"path": ...} as a file to fetch
    return [{k: v for k, v in row.items() if k != "path"} for row in list_runs(stage.strip() or None)]


def run_status(run_id: str) -> dict[str, Any]:
    """A run's status: state (queued, running, finished, failed, stopped), reason, step, total_steps, eta_s, …"""
    return _run(run_id).status()


def run_metrics(run_id: str) -> list[dict[str, Any]]:
    """A run's metrics, one row per logged step (loss, reward_mean, kl, … as the stage logs them)."""
    return _run(run_id).metrics()


def run_artifacts(run_id: str) -> dict[str, Any]:
    """What a run saved: every file under artifacts/ with its size, and its eval, samples and results JSON."""
    run = _run(run_id)
    files = sorted(p for p in run.artifacts.rglob("*") if p.is_file())
    listing = {str(p.relative_to(run.artifacts)): p.stat().st_size for p in files}
    return {"files": listing, **{name.removesuffix(".json"): run.read_artifact_json(name) for name in ARTIFACT_JSON}}


def run_download(run_id: str):
    """The run folder as one zip (without its resume checkpoints), once it has ended."""
    try:
        return offer_run_zip(_run(run_id))
    except UserError as exc:
        raise gr.Error(str(exc)) from None


def build() -> None:
    """Add the endpoints (call inside the app's Blocks)."""
    for fn in (runs, run_status, run_metrics, run_artifacts):
        gr.api(fn, api_name=fn.__name__)
    with gr.Row(visible=False):  # a file endpoint needs a file output: invisible, for the API alone
        run_id, archive = gr.Textbox(), gr.File()
        gr.Button().click(run_download, run_id, archive, api_name="run_download")
