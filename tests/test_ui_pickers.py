"""The shared menus (ui/pickers.py): each reads its choices afresh when the page opens and when its tab is
selected, so runs and datasets made elsewhere since show up."""

from __future__ import annotations

import gradio as gr

from rlhf_playground.ui import page_load
from rlhf_playground.ui.pickers import Picker, dataset_picker, refresh_when_shown


def events(app: gr.Blocks, name: str) -> list:
    return [f.fn for f in app.fns.values() if any(event == name for _, event in f.targets)]


def test_pickers_are_read_again_on_page_open_and_on_tab_select():
    runs = ["sft-1"]
    with gr.Blocks() as app:
        with gr.Tab("PPO") as tab:
            first = Picker(gr.Dropdown([], render=False), lambda: list(runs))
            second = Picker(gr.Dropdown([], render=False), lambda: ["lexicon", *runs])
            refresh_when_shown(app, tab, [first, second])
        page_load.wire(app)
    (on_open,), (on_select,) = events(app, "load"), events(app, "select")
    runs.append("sft-2")  # made in another tab after the page was built
    for fill in (on_open, on_select):
        assert [u["choices"] for u in fill()] == [["sft-1", "sft-2"], ["lexicon", "sft-1", "sft-2"]]


def test_one_picker_gets_one_update_and_an_optional_dataset_offers_none_first():
    with gr.Blocks() as app:
        with gr.Tab("Compare") as tab:
            picker = dataset_picker(["prompt"], "prompts", optional=True)
            refresh_when_shown(app, tab, [picker])
    (on_select,) = events(app, "select")
    update = on_select()
    assert picker.dropdown.value == "" and update["choices"][0] == ""
