"""What the app changes in gradio: a session's component configs are built on demand, and read the same."""

import gradio as gr
from gradio.state_holder import SessionState

from rlhf_playground.ui.gradio_tuning import ConfigsOnDemand, build_session_configs_on_demand


def small_app() -> gr.Blocks:
    with gr.Blocks() as app:
        with gr.Tab("one"):
            name = gr.Textbox("hello", label="name")
            gr.Dropdown(["a", "b"], value="a", label="pick")
            gr.State({"kept": 1})
        with gr.Tab("two"):
            gr.Number(3, label="steps")
            gr.Markdown("**bold**")
        name.change(lambda v: v, name, name)
    return app


def eager_and_on_demand(app: gr.Blocks) -> tuple[SessionState, SessionState]:
    eager = SessionState(app)
    build_session_configs_on_demand()
    return eager, SessionState(app)


def test_a_new_session_builds_no_component_config_up_front(monkeypatch):
    app = small_app()
    monkeypatch.setattr(SessionState, "__init__", SessionState.__init__)  # undone after the test
    eager, lazy = eager_and_on_demand(app)
    assert isinstance(lazy.config_values, ConfigsOnDemand)
    assert len(dict(eager.config_values)) > 5 and not dict.__len__(lazy.config_values)
    assert lazy.blocks_config is not app.default_config and lazy.state_data == {} and not lazy.is_closed


def test_configs_built_on_demand_are_the_ones_gradio_builds(monkeypatch):
    app = small_app()
    monkeypatch.setattr(SessionState, "__init__", SessionState.__init__)
    eager, lazy = eager_and_on_demand(app)
    textbox = next(k for k, b in app.blocks.items() if isinstance(b, gr.Textbox))
    for state in (eager, lazy):
        state._update_value_in_config(textbox, "changed")  # as gradio does after an event
    assert lazy.config_values[textbox]["props"]["value"] == "changed"
    by_id = lambda state: {config["id"]: config for config in state.components}  # noqa: E731
    assert by_id(lazy) == by_id(eager)


def test_it_is_applied_once_however_often_it_is_called(monkeypatch):
    monkeypatch.setattr(SessionState, "__init__", SessionState.__init__)
    build_session_configs_on_demand()
    first = SessionState.__init__
    build_session_configs_on_demand()
    assert SessionState.__init__ is first
