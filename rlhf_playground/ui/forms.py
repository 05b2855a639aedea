"""Widgets built from a stage's config dataclass, so the UI, the CLI and the config file agree.

Each field becomes a widget (bool → checkbox, int/float → number, str → textbox, a field with
``choices`` in its metadata → menu)
labelled with its name and explained by its ``help`` metadata; a tab can pass
its own widget for a field (a dataset menu, say), created with ``render=False``.
"""

from __future__ import annotations

import dataclasses
import typing

import gradio as gr

from ..config import ACCELERATE_CONFIGS, from_dict, to_accelerate_command, to_command

SCHEDULE = ["learning_rate", "num_epochs", "max_steps", "batch_size", "grad_accum"]  # a TRL trainer's schedule


def field_widget(f: dataclasses.Field, kind: type, value, elem_id: str):
    common = {"label": f.name.replace("_", " "), "info": f.metadata.get("help"), "elem_id": elem_id}
    if "choices" in f.metadata:
        return gr.Dropdown(list(f.metadata["choices"]), value=value, **common)
    if kind is bool:
        return gr.Checkbox(value=value, **common)
    if kind is int:
        return gr.Number(value=value, precision=0, **common)
    if kind is float:
        return gr.Number(value=value, **common)
    return gr.Textbox(value=value, **common)


class ConfigForm:
    """Lays out the fields of ``cls`` in groups and turns widget values back into a config."""

    def __init__(
        self,
        cls,
        stage: str,
        groups: list[tuple[str, list[str]]],
        custom: dict | None = None,
        defaults: dict | None = None,
        accelerate: bool = True,
        open_groups: int = 1,
    ):
        """Widgets get the element id ``<stage>-<field>`` (for browser tests and custom CSS).
        ``accelerate``: also show the ``accelerate launch`` form of the command (training stages).
        ``open_groups``: how many groups, from the first, start unfolded."""
        self.cls, self.accelerate = cls, accelerate
        kinds = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        custom, defaults = custom or {}, defaults or {}
        self.widgets: dict[str, gr.components.Component] = {}
        for index, (title, names) in enumerate(groups):
            with gr.Accordion(title, open=index < open_groups):
                with gr.Row(equal_height=False):
                    for name in names:
                        if name in custom:
                            custom[name].elem_id = f"{stage}-{name}"
                            self.widgets[name] = custom[name].render()
                        else:
                            value = defaults.get(name, fields[name].default)
                            self.widgets[name] = field_widget(fields[name], kinds[name], value, f"{stage}-{name}")
        self.kinds = {name: kinds[name] for name in self.widgets}
        # which assets/accelerate/ config the command's accelerate form names (not a setting of the run)
        self.launch_config = (
            gr.Dropdown(
                list(ACCELERATE_CONFIGS),
                value=ACCELERATE_CONFIGS[0],
                label="accelerate config (for the command below)",
                info="ddp: several GPUs; fsdp, deepspeed-zero2/3: a model too large for one; cpu-gloo: 2 CPU processes",
                elem_id=f"{stage}-accelerate-config",
            )
            if accelerate
            else None
        )

    @property
    def inputs(self) -> list:
        return list(self.widgets.values())

    @property
    def command_inputs(self) -> list:
        """What the command box follows: the settings, and the accelerate config when there is one."""
        return self.inputs + ([self.launch_config] if self.launch_config is not None else [])

    def config(self, *values):
        """The config for widget ``values`` (in ``inputs`` order); UserError on wrong types."""
        clean = {}
        for (name, kind), value in zip(self.kinds.items(), values):
            if kind is int and isinstance(value, float) and value.is_integer():
                value = int(value)
            if kind is str and value is None:
                value = ""
            if kind is str and isinstance(value, list):  # a multi-select menu
                value = ",".join(value)
            clean[name] = value
        return from_dict(self.cls, clean)

    def command(self, stage: str, *values) -> str:
        """The terminal and ``accelerate launch`` commands for these settings (``values``: of
        :attr:`command_inputs`), or why there are none."""
        launch_config = values[-1] if self.launch_config is not None else None
        values = values[:-1] if self.launch_config is not None else values
        try:
            config = self.config(*values)
        except Exception as exc:  # a half-typed value: show why instead of a command
            return f"# {exc}"
        if not self.accelerate:
            return to_command(stage, config)
        launch_config = launch_config if launch_config in ACCELERATE_CONFIGS else ACCELERATE_CONFIGS[0]
        return (
            f"{to_command(stage, config)}\n\n# on several processes, with assets/accelerate/{launch_config}.yaml:\n"
            f"{to_accelerate_command(stage, config, launch_config)}"
        )
