"""The Blocks app: one tab per step of the RLHF pipeline."""

from __future__ import annotations

import gradio as gr

from ..hosting import is_hosted
from . import (
    api,
    compare_tab,
    data_tab,
    demo_tab,
    explore_tab,
    finetune_tab,
    label_tab,
    methods_tab,
    page_load,
    ppo_tab,
    reward_tab,
)
from .gradio_tuning import build_session_configs_on_demand, quiet_queue
from .monitor import Watchers
from .page_cache import PageCache
from .sessions import COOKIE_SCRIPT, DownloadGuard, isolate_sessions
from .status_timer import StatusTimerFirst

TITLE = "RLHF Playground"
HEADER = """
# RLHF Playground
The whole RLHF pipeline on real models, small enough to watch on a laptop:
**data → your own labels → supervised fine-tuning → reward model → PPO (or DPO, GRPO, RLOO) → compare**.
Everything runs offline on the bundled SmolLM2-135M-Instruct; Hub names work when the Hub can be reached.
"""
HOSTED_NOTE = """
*This is a shared app: your datasets and runs are private to this browser, training jobs of all users run
one at a time (a queued run shows its place in line), uploads are capped and local paths can't be used.*
"""


def build_app() -> gr.Blocks:
    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(HEADER + (HOSTED_NOTE if is_hosted() else ""))
        watchers = Watchers()  # each tab's live view polls only while that tab is shown
        with gr.Tabs():
            with gr.Tab("▶ Whole demo", id="demo", elem_id="tab-demo", render_children=True) as demo:
                demo_tab.build(watchers, app, demo)
            with gr.Tab("1 · Data", id="data", elem_id="tab-data") as data:
                saved = data_tab.build()
            with gr.Tab("1b · Label", id="label", elem_id="tab-label", render_children=True) as label:
                label_tab.build(watchers, app, label)
            with gr.Tab("2 · Fine-tune", id="sft", elem_id="tab-sft", render_children=True) as sft:
                finetune_tab.build(watchers, app, sft)
            with gr.Tab("3 · Reward model", id="reward", elem_id="tab-reward", render_children=True) as reward:
                reward_tab.build(watchers, app, reward)
            with gr.Tab("4 · PPO", id="ppo", elem_id="tab-ppo", render_children=True) as ppo:
                ppo_tab.build(watchers, app, ppo)
            with gr.Tab("5 · DPO · GRPO · RLOO", id="methods", elem_id="tab-methods", render_children=True) as methods:
                methods_tab.build(watchers, app, methods)
            with gr.Tab("6 · Compare", id="compare", elem_id="tab-compare", render_children=True) as compare:
                compare_tab.build(watchers, app, compare)
            with gr.Tab("Try models", id="explore", elem_id="tab-explore", render_children=True) as explore:
                explore_tab.build(explore)
        watchers.render(app, [demo, data, label, sft, reward, ppo, methods, compare, explore])
        api.build()
        page_load.on_open(app, data_tab.saved_table, saved)
        page_load.wire(app)  # every tab's menus and runs, filled in one event as the page opens
    if is_hosted():
        isolate_sessions(app)
    return app


# The Label tab's keys: 1 / 2 / 3 / space / u click its buttons while it is shown and no text field has the focus.
KEYS_SCRIPT = """<script>document.addEventListener("keydown", (event) => {
  const target = event.target;
  const field = target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && !target.readOnly;
  const typing = target && (target.isContentEditable || field);
  if (typing || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const id = {"1": "label-a", "2": "label-b", "3": "label-tie", " ": "label-skip", "u": "label-undo"}[event.key];
  const button = id && document.getElementById(id);
  if (!button || button.offsetParent === null || button.disabled) return;
  event.preventDefault();
  button.click();
});</script>"""
SWEEP_EVERY_S = 600


def _sweep_forever() -> None:
    """Delete session workspaces nobody comes back to, now and then (hosted mode)."""
    import time

    from ..jobs.cleanup import sweep_sessions

    while True:
        try:
            sweep_sessions()
        except OSError:
            pass  # a folder changed under the sweep: the next one gets it
        time.sleep(SWEEP_EVERY_S)


def launch(app: gr.Blocks | None = None, **kwargs) -> None:
    """Serve the app; host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (127.0.0.1:7860).

    Nothing on disk is served: downloads are copies in gradio's cache (``sessions.offer_download``).
    Hosted, the page sets the session cookie, downloads need it, and old sessions are swept away.
    """
    import threading

    from starlette.middleware import Middleware

    from ..data import max_file_bytes
    from ..models import warm_up

    app = app or build_app()
    app.queue(default_concurrency_limit=4)
    quiet_queue(app)
    build_session_configs_on_demand()
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    # the first is the outermost: the page PageCache keeps already has the status timer's script
    head, middleware = KEYS_SCRIPT, [Middleware(PageCache), Middleware(StatusTimerFirst)]
    if is_hosted():
        head, middleware = COOKIE_SCRIPT + head, [*middleware, Middleware(DownloadGuard)]
        threading.Thread(target=_sweep_forever, name="sweep-sessions", daemon=True).start()
    app.launch(
        theme=gr.themes.Soft(),
        ssr_mode=False,
        run_history=False,
        max_file_size=max_file_bytes(),
        head=head,
        app_kwargs={"middleware": middleware},
        **kwargs,
    )
