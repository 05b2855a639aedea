"""The live view's polling: what is sent again, what is skipped, how long plots get, and the quiet queue."""

from __future__ import annotations

import gradio as gr

from rlhf_playground.jobs import create_run
from rlhf_playground.stages.sft import SFTStageConfig
from rlhf_playground.ui import monitor
from rlhf_playground.ui.monitor import MAX_POINTS, RunMonitor, metric_frame

SKIP = gr.skip()


def make_monitor() -> RunMonitor:
    with gr.Blocks():
        return RunMonitor("sft", [["loss"]])


def test_a_poll_sends_only_what_changed_and_redraws_plots_at_most_every_few_seconds(monkeypatch):
    run = create_run("sft", SFTStageConfig(dataset="x"))
    run.update_status(state="running", step=1, total_steps=9)
    run.append_metrics({"step": 1, "loss": 2.0})
    clock = [1000.0]
    monkeypatch.setattr(monitor.time, "monotonic", lambda: clock[0])
    view = make_monitor()

    progress, plot, log, seen, timer = view.poll(run.id, None)
    assert "running: step 1/9" in progress and list(plot["value"]) == [2.0] and timer == SKIP  # it keeps ticking

    clock[0] += 1
    again = view.poll(run.id, seen)
    assert again[:3] == [SKIP, SKIP, SKIP]  # nothing changed: nothing is sent

    run.append_metrics({"step": 2, "loss": 1.5})
    run.update_status(step=2)
    clock[0] += 1
    progress, plot, *_, seen_soon, _ = view.poll(run.id, again[3])
    assert "step 2/9" in progress and plot == SKIP  # the text follows at once, the plot waits

    clock[0] += monitor.PLOTS_EVERY_S
    _, plot, *_ = view.poll(run.id, seen_soon)
    assert list(plot["value"]) == [2.0, 1.5]

    run.finish("finished", "done")
    progress, plot, _, _, timer = view.poll(run.id, seen_soon)
    assert "finished" in progress and plot is not SKIP  # the end shows at once
    assert timer.active is False  # and the poll that shows it stops the timer


def test_no_run_means_nothing_to_poll():
    *_, seen, timer = make_monitor().poll(None, None)
    assert seen is None and timer.active is False


def test_a_long_run_is_thinned_out_evenly_keeping_its_last_point():
    rows = [{"step": i, "loss": float(i)} for i in range(1, 1001)]
    frame = metric_frame(rows, ["loss"])
    assert len(frame) <= MAX_POINTS + 1 and frame["step"].iloc[0] == 1 and frame["step"].iloc[-1] == 1000
    assert len(metric_frame(rows[:50], ["loss"])) == 50  # a short run is shown whole
    assert len(metric_frame(rows[:3], ["loss", "eval_accuracy"])) == 3  # a metric with no rows yet is no error


def test_the_queue_looks_for_work_every_50_ms_not_every_millisecond():
    from rlhf_playground.ui.gradio_tuning import QUEUE_IDLE_S, quiet_queue

    with gr.Blocks() as app:
        gr.Markdown("x")
    app.queue()
    assert app._queue.sleep_when_free < QUEUE_IDLE_S  # gradio's own value on Linux
    assert app._queue.ANAYLTICS_CACHE_FREQUENCY == 1  # gradio's: a summary after every event
    quiet_queue(app)
    assert app._queue.sleep_when_free == QUEUE_IDLE_S
    assert app._queue.ANAYLTICS_CACHE_FREQUENCY > 1  # no pandas summary of every event's timing


def test_clicks_that_run_a_model_in_the_app_take_turns_in_one_group_and_cheap_ones_keep_their_own(monkeypatch):
    monkeypatch.setenv("RLHF_HOSTED", "1")
    from rlhf_playground.ui.app import build_app

    fns = {fn.api_name: fn for fn in build_app().fns.values() if fn.api_name}
    for name in ("explore_generate", "explore_sentiment", "reward_try"):
        assert (fns[name].concurrency_id, fns[name].concurrency_limit) == ("model", 1), name
    cheap = [fns[name].concurrency_id for name in ("load_data", "save_data", "sft_start", "sft_poll")]
    assert "model" not in cheap and len(set(cheap)) == len(cheap)  # each its own queue


def test_a_start_or_a_save_in_the_browser_costs_as_few_round_trips_as_it_can(monkeypatch):
    """Each event a click sets off is one more round of gradio's per-event work for a room pressing it at once:
    Start is its click and one follow-up (poll the run, list it), Save is its click alone, and nothing
    listens to a run id changing (the events that set it send what depends on it)."""
    monkeypatch.setenv("RLHF_HOSTED", "1")
    from rlhf_playground.ui.app import build_app

    app = build_app()
    fns = list(app.fns.values())
    by_name = {fn.api_name: fn for fn in fns if fn.api_name}
    after = lambda fn: [f for f in fns if f.trigger_after == fn._id]  # noqa: E731
    for stage in ("sft", "ppo", "compare"):
        (follow_up,) = after(by_name[f"{stage}_start"])
        assert not after(follow_up)
    assert not after(by_name["save_data"])
    states = {c._id for c in app.blocks.values() if isinstance(c, gr.State)}
    assert not [f for f in fns if any(event == "change" and target in states for target, event in f.targets)]


def test_opening_a_tab_sends_the_runs_list_only_when_the_shown_run_changes():
    shown = make_monitor()
    assert shown.show(None)[2:] == (SKIP, SKIP)  # no run then, none now
    run = create_run("sft", SFTStageConfig(dataset="x"))
    run_id, timer, runs, box = shown.show(None)
    assert run_id == run.id and box == run.id and [row[0] for row in runs["data"]] == [run.id] and timer.active
    assert shown.show(run.id)[2:] == (SKIP, SKIP)
