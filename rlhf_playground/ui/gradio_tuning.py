"""What this app changes in gradio's own behaviour, each change measured where it is made.

Gradio is tuned for one person's demo; a hosted app serves a room from one Python process, where every
millisecond gradio spends per event or per visitor is multiplied by 30.
"""

from __future__ import annotations

import types

import gradio as gr

QUEUE_IDLE_S = 0.05  # how often gradio's queue looks for new events while it has none
ANALYTICS_EVERY = 1000  # events between gradio's summaries of its own timings (it made one after every event)


def quiet_queue(app: gr.Blocks) -> None:
    """Let gradio's queue look for work every 50 ms when it has none, not every millisecond.

    On Linux and macOS it polls every 1 ms (progress every 10 ms): 5% of a core spent by a server
    nobody is using (measured with benchmarks/page_cpu.py). 50 ms and 100 ms are the values gradio
    itself uses on Windows; an event then starts up to 50 ms later, which nobody notices.

    After every queued event gradio also rebuilds a pandas table of its last 10,000 events' timings, for a
    monitoring page this app doesn't serve: 15% of the server's CPU with 30 people in (py-spy during
    ``benchmarks/load_test.py --clients 30``). It keeps the last 1000 and summarises every 1000th event.
    """
    queue = getattr(app, "_queue", None)
    if queue is not None and hasattr(queue, "sleep_when_free"):
        queue.sleep_when_free = QUEUE_IDLE_S
        queue.progress_update_sleep_when_free = 2 * QUEUE_IDLE_S
    if queue is not None and hasattr(queue, "ANAYLTICS_CACHE_FREQUENCY"):  # gradio's spelling
        queue.ANAYLTICS_CACHE_FREQUENCY = queue.ANALYTICS_MAX_EVENTS = ANALYTICS_EVERY


def build_session_configs_on_demand() -> None:
    """Build a visitor's copy of each component's config when gradio first needs it, not all at once.

    For every new session gradio builds the config of each of the app's 724 components up front, so that a
    deep link (a URL with the session's values, which this app doesn't offer) can be answered: 40 ms of the
    server's one Python thread per visitor alone, 0.1 s of the 0.45 s a page open cost it with other pages
    opening (py-spy, ``benchmarks/room_burst.py``). Gradio's own ``__init__`` still runs, with the
    component list hidden from its up-front loop; the configs it would have built come from the same
    call, made the first time they are read. Safe to call more than once.
    """
    from gradio.state_holder import SessionState

    if getattr(SessionState.__init__, "on_demand", False):
        return
    eager = SessionState.__init__

    def on_demand(self, blocks) -> None:
        eager(self, types.SimpleNamespace(default_config=blocks.default_config, blocks={}))
        self.config_values = ConfigsOnDemand(self.blocks_config, blocks.blocks)

    on_demand.on_demand = True
    SessionState.__init__ = on_demand


class ConfigsOnDemand(dict):
    """A session's component configs (gradio's ``SessionState.config_values``), each built when first read.

    Gradio reads them one by one, asking ``key in`` first (and building a missing one itself), or all at once
    through ``items()``; both see exactly what the up-front loop would have built."""

    def __init__(self, blocks_config, app_blocks: dict):
        super().__init__()
        self.blocks_config, self.app_blocks = blocks_config, app_blocks

    def __missing__(self, key):
        self[key] = self.blocks_config.config_for_block(key, [], self.blocks_config.blocks[key])
        return self[key]

    def fill(self) -> None:
        for key in self.blocks_config.blocks:
            if key in self.app_blocks and not dict.__contains__(self, key):
                self[key]  # noqa: B018 (built by __missing__)

    def items(self):
        self.fill()
        return super().items()

    def values(self):
        self.fill()
        return super().values()

    def __iter__(self):
        self.fill()
        return super().__iter__()

    def __len__(self) -> int:
        self.fill()
        return super().__len__()
