"""Watching a training run from the UI: progress, live metrics, log, stop, and the runs list.

Everything here reads the run folder the job writes, so a page reload (or a
second browser) sees the same run, and a crashed job can't take the app down.
"""

from __future__ import annotations

import html
import inspect
import math
import time
from dataclasses import dataclass

import gradio as gr

from ..errors import UserError
from ..jobs import list_runs, open_run, runner
from ..jobs.queue import about
from ..jobs.runs import ACTIVE
from ..registry import RESUMABLE
from .common import problem, table
from .page_load import fill_when_built, on_open
from .take_home import run_take_home

POLL_S = 2.0  # how often the shown tab's active run is read: each read costs the browser gradio's per-event work
PLOTS_EVERY_S = 10.0  # a running run's plots and results are redrawn at most this often
MAX_POINTS = 200  # per metric in a live plot: a long run is thinned out evenly, its last point kept
RUN_COLUMNS = ["id", "stage", "state", "step", "total_steps", "first_loss", "last_loss", "reason", "artifacts"]


def fmt_seconds(seconds) -> str:
    if seconds is None:
        return "…"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_html(status: dict) -> str:
    state = status.get("state", "")
    step, total = status.get("step") or 0, status.get("total_steps") or 0
    text = f"{html.escape(state)}: step {step}/{total or '?'}"
    if state == "running":
        text += f" · ETA {fmt_seconds(status.get('eta_s'))}"
    reason = status.get("reason")
    if reason:
        text += f" · {html.escape(reason)}"
    bar = (
        f'<progress value="{step}" max="{total}" style="width:100%"></progress>'
        if total
        else '<progress style="width:100%"></progress>'
        if state in ACTIVE
        else ""
    )
    return f'<div class="run-progress">{bar}<div>{text}</div></div>'


def _finite(value) -> bool:
    """A number a plot can show (NaN, e.g. the explained variance of returns that didn't vary, is left out)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def metric_frame(rows: list[dict], metrics: list[str]):
    """Long-format metrics (step, value, metric) for a ``gr.LinePlot``, at most ``MAX_POINTS`` per metric;
    None before the first row.

    An empty frame has untyped columns, which would make the plot treat the axes as categories.
    """
    import pandas as pd

    points = []
    for k in metrics:
        series = [(int(m["step"]), float(m[k]), k) for m in rows if _finite(m.get(k))]
        every = max(1, -(-len(series) // MAX_POINTS))  # ceil; 1 for a metric with no rows yet
        points += series[::every] + ([series[-1]] if every > 1 and (len(series) - 1) % every else [])
    return pd.DataFrame(points, columns=["step", "value", "metric"]) if points else None


def runs_frame(stage: str | None) -> dict:
    """The workspace's runs of ``stage`` (all with None), with what each saved, for the Runs list."""
    from pathlib import Path

    rows = [
        {**r, "artifacts": ", ".join(sorted(p.name for p in (Path(r["path"]) / "artifacts").glob("[!.]*")))}
        for r in list_runs(stage)
    ]
    return table(rows, RUN_COLUMNS, limit=None, cut=False)


class RunMonitor:
    """The run-watching widgets of one stage's tab, refreshed by the app's timer."""

    def __init__(
        self,
        stage: str,
        metrics: list[list[str]],
        results: list | None = None,
        results_fn=None,
        start_label: str = "Start training",
        changes=None,
    ):
        """``metrics``: groups of metric names, one live plot per group (similar scales together).
        ``results``: widgets the tab placed for the run's outcome, filled by ``results_fn(run)`` (a list),
        re-sent like the plots only when a metrics row, the state or the step changed, or what
        ``changes(run)`` returns (for a run whose view shows other runs: the demo's stages)."""
        self.stage, self.metrics = stage, metrics
        self.results, self.results_fn, self.changes = results or [], results_fn, changes
        self.run_id = gr.State(None)
        self.seen = gr.State(None)  # what the page shows of the run: see poll
        self.timer = gr.Timer(POLL_S, active=False, render=False)  # rendered at the root by Watchers.render
        self.tabs: tuple = ()
        with gr.Row():
            self.start_btn = gr.Button(start_label, variant="primary")
            self.stop_btn = gr.Button("Stop", variant="stop")
            self.resume_btn = gr.Button("Resume", variant="secondary", visible=stage in RESUMABLE)
            # the shown run's id: to copy into a command (push, resume), and what the API's start returns
            self.run_box = gr.Textbox(label="Run id", interactive=False, max_lines=1, buttons=["copy"])
        self.message = gr.Markdown()
        self.progress = gr.HTML()
        with gr.Row(visible=bool(metrics)):
            self.plots = [
                gr.LinePlot(x="step", y="value", color="metric", label=" · ".join(group), height=220, min_width=300)
                for group in metrics
            ]
        self.log = gr.Textbox(label="Last log lines", lines=8, max_lines=8, autoscroll=True)
        run_take_home(stage, self.run_id)
        with gr.Accordion("Runs", open=False):
            self.runs = gr.Dataframe(label="Runs in the workspace", interactive=False)
            self.refresh = gr.Button("Refresh", size="sm")

    @property
    def outputs(self) -> list:
        return [self.progress, *self.plots, self.log, *self.results]

    def poll(self, run_id, seen):
        """The run's view; a part that hasn't changed since the last poll is not sent again (no flicker, no
        traffic). Plots and results are rebuilt when the state changed, or when the metrics or the step
        did and the last rebuild is ``PLOTS_EVERY_S`` old: a fast run doesn't redraw its plots every tick."""
        if not run_id:
            return ["", *[None] * len(self.plots), "", *[None] * len(self.results), None, keep_polling(None)]
        run = open_run(run_id)
        status = run.status()
        extra = self.changes(run) if self.changes else None
        now = {
            "run": run_id,
            "state": status.get("state"),
            "moved": [run.metrics_size(), status.get("step"), extra],  # what redraws the plots and results
            "progress": progress_html(status),
            "log": run.tail_log(12),
            "drawn_at": None,  # when the plots and results were last sent
        }
        sent = seen if seen and seen["run"] == run_id else {}
        if (
            sent
            and now["state"] == sent["state"]
            and (now["moved"] == sent["moved"] or time.monotonic() - sent["drawn_at"] < PLOTS_EVERY_S)
        ):
            now["moved"], now["drawn_at"] = sent["moved"], sent["drawn_at"]
            plots, results = [gr.skip()] * len(self.plots), [gr.skip()] * len(self.results)
        else:
            now["drawn_at"] = time.monotonic()
            metrics = run.metrics() if self.metrics else []
            plots = [metric_frame(metrics, group) for group in self.metrics]
            results = list(self.results_fn(run)) if self.results else []
        progress, log = (gr.skip() if sent.get(key) == now[key] else now[key] for key in ("progress", "log"))
        return [progress, *plots, log, *results, now, keep_polling(now["state"])]

    @staticmethod
    def watch():
        """Start polling: on showing the tab, starting or resuming a run (the first poll stops it again when
        there is nothing active to watch)."""
        return gr.Timer(active=True)

    def start(self, config):
        """Start a job for ``config``; returns (run id or None, message)."""
        try:
            run = runner.start(self.stage, config)
        except UserError as exc:
            return None, problem(exc)
        where = run.outlook_at_launch
        if where and where.ahead:  # other jobs hold the machine or wait before it: say so
            return run.id, f"Run **{run.id}** is queued ({where.ahead} ahead); it starts in {about(where.wait_s)}."
        return run.id, f"Run **{run.id}** started."

    def stop(self, run_id):
        if not run_id:
            return "No run to stop."
        status = runner.stop(open_run(run_id))
        return f"Run **{run_id}** {status.get('state')}: {status.get('reason', '')}"

    def resume(self, run_id):
        """Relaunch the shown run, when failed or stopped, from its last checkpoint."""
        if not run_id:
            return "No run to resume."
        try:
            run = runner.resume(open_run(run_id))
        except UserError as exc:
            return problem(exc)
        return f"Run **{run.id}** resumes from step {run.status().get('resumed_from_step')}."

    def latest(self):
        """The run to show after a page load: the active one of this stage, else the newest."""
        runs = list_runs(self.stage)
        active = [r for r in runs if r.get("state") in ACTIVE]
        return (active or runs or [{"id": None}])[0]["id"]

    def wire_form(self, form, command: gr.Code) -> None:
        """Start builds the config from ``form``; the command box follows every change of it."""

        def start(*values):
            """Through the API: (message, run id); the run id is empty when nothing started."""
            try:
                config = form.config(*values)
            except UserError as exc:
                return None, problem(exc), ""
            run_id, message = self.start(config)
            return run_id, message, run_id or ""

        # the settings' names as the API's parameter names: client.predict(max_steps=10, api_name="/sft_start")
        start.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in form.widgets]
        )

        # The form's values reach form.config as sent (preprocess=False): it checks them itself, as it does a
        # config file's, and gradio's preprocessing of thirty widgets, each in a worker thread of its own, was a
        # fifth of what a room pressing Start at once cost the server.
        outputs = [self.run_id, self.message, self.run_box]
        self.start_btn.click(start, form.inputs, outputs, api_name=f"{self.stage}_start", preprocess=False).then(
            self.started, self.run_id, [self.timer, self.runs], api_visibility="private"
        )
        shown = form.command_inputs

        def command_for(*values):
            return form.command(self.stage, *values)

        for widget in shown:
            widget.change(command_for, shown, command, api_visibility="private", preprocess=False)
        fill_when_built(command, command_for, shown)

    def started(self, run_id):
        """After Start (in the browser, not through the API): poll the new run and list it among the runs; when
        nothing started, one poll clears the view of the run shown before."""
        return self.watch(), (runs_frame(self.stage) if run_id else gr.skip())

    def show(self, run_id):
        """On opening the tab: keep showing an active run, else switch to this stage's newest one
        (so a run started elsewhere, by the demo say, shows up without a reload); and poll it. The runs
        list and the run id box are sent only when the shown run changes."""
        shown = open_run(run_id).status() if run_id else {}
        now = run_id if shown.get("state") in ACTIVE else self.latest()
        if now == run_id:
            return run_id, self.watch(), gr.skip(), gr.skip()
        return now, self.watch(), runs_frame(self.stage), now or ""

    def opened(self):
        """On page open: the run to show, the runs list and the run id box."""
        run_id = self.latest()
        return run_id, runs_frame(self.stage), run_id or ""

    def wire(self, watchers: "Watchers", app: gr.Blocks, *tabs: gr.Tab) -> None:
        """Poll on this monitor's timer while one of ``tabs`` (the tab, and a sub-tab it sits in) is shown."""
        self.tabs = tabs
        watchers.monitors.append(self)
        self.timer.tick(
            self.poll,
            [self.run_id, self.seen],
            [*self.outputs, self.seen, self.timer],
            api_name=f"{self.stage}_poll",
            api_visibility="undocumented",
            show_progress="hidden",
            queue=False,
        )
        self.stop_btn.click(self.stop, self.run_id, self.message, api_name=f"{self.stage}_stop")
        self.resume_btn.click(self.resume, self.run_id, self.message, api_name=f"{self.stage}_resume").then(
            self.watch, None, self.timer, api_visibility="private"
        )
        self.refresh.click(lambda: runs_frame(self.stage), None, self.runs, api_visibility="private")
        # Every event that sets the run id sends the runs list and the id box with it (a change listener on
        # the run id was one more round trip per Start and per tab opened).
        on_open(app, self.opened, [self.run_id, self.runs, self.run_box])
        for tab in tabs:
            tab.select(
                self.show, self.run_id, [self.run_id, self.timer, self.runs, self.run_box], api_visibility="private"
            )


def keep_polling(state: str | None):
    """The poll's own word on its timer: leave it ticking while the run is active, else stop it.

    The poll itself says so: a ``change`` listener on a State that the (unqueued) poll wrote was meant to stop
    the timer, but a page with no run kept polling every ``POLL_S`` for as long as it stayed open (Chromium's
    requests, counted with Playwright: two polls every 2 s on the demo tab).
    """
    return gr.skip() if state in ACTIVE else gr.Timer(active=False)


class Watchers:
    """The app's run monitors and their timers, so that a page costs nothing while nothing changes.

    A ``gr.Timer`` ticks only at the Blocks root, so each monitor's timer is made unrendered and
    :meth:`render` places it there. A timer runs only while its tab is the one shown (opening any
    other tab stops it) and its run is active (:func:`keep_polling`); a finished run is
    polled once more to show how it ended.
    """

    def __init__(self) -> None:
        self.monitors: list[RunMonitor | Polled] = []

    def add_timer(self, timer: gr.Timer, *tabs: gr.Tab) -> None:
        """A timer (made with ``render=False``) of something other than a run, stopped when ``tabs`` are left."""
        self.monitors.append(Polled(timer, tabs))

    def render(self, app: gr.Blocks, tabs: list[gr.Tab]) -> None:
        """Call at the Blocks root after every tab is built; ``tabs``: the top-level tabs, the first shown
        on load."""
        for monitor in self.monitors:
            monitor.timer.render()
        every_tab = list(dict.fromkeys([*tabs, *(tab for m in self.monitors for tab in m.tabs)]))
        for tab in every_tab:
            others = [m.timer for m in self.monitors if tab not in m.tabs]
            if others:
                tab.select(_stopper(len(others)), None, others, api_visibility="private")
        first = [m for m in self.monitors if tabs[0] in m.tabs and isinstance(m, RunMonitor)]
        for monitor in first:
            on_open(app, monitor.watch, monitor.timer)


@dataclass
class Polled:
    timer: gr.Timer
    tabs: tuple


def _stopper(count: int):
    return lambda: [gr.Timer(active=False)] * count
