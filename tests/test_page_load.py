"""What the page fills in as it opens: one event, reading no widget, with the command boxes there from the start."""

from __future__ import annotations

import gradio as gr

from rlhf_playground.ui import page_load
from rlhf_playground.ui.app import build_app


def test_a_box_following_widgets_has_their_built_values_answer_from_the_start():
    with gr.Blocks():
        steps, name = gr.Number(30, precision=0), gr.Textbox(" tiny ")
        box = gr.Code()
        page_load.fill_when_built(box, lambda n, s: f"  train {s.strip()} for {n} steps\n", [steps, name])
    assert box.value == "train tiny for 30 steps"  # as gradio would send what the function returned


def test_the_page_opens_in_one_event_that_reads_no_widget_and_every_command_is_shown_already():
    """gradio's page re-sends a loading status to every component an event ever touched, on every event after,
    each a search of the whole component tree (ui/page_load.py): the opening fills only what is per session."""
    app = build_app()
    (opening,) = [fn for fn in app.fns.values() if any(event == "load" for _, event in fn.targets)]
    assert opening.inputs == []
    codes = [b for b in app.blocks.values() if isinstance(b, gr.Code)]
    commands = [c.value for c in codes if "terminal" in (c.label or "")]
    assert len(commands) == 8 and all(c.startswith("python -m rlhf_playground ") for c in commands)
    assert [c.value.split("\n")[0] for c in codes if "Python" in (c.label or "")] == [
        "from transformers import pipeline"
    ]
