"""The menus several tabs share, built in one place: a saved dataset, an SFT adapter to start from, a reward,
a trained reward model, tuned runs.

A :class:`Picker` is the dropdown and where its choices come from (:mod:`.choices`); :func:`refresh_when_shown`
reads a tab's pickers afresh when the page opens and whenever the tab is selected, so a tab offers the runs and
datasets made in other tabs (or from the terminal) since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from .choices import adapter_choices, dataset_choices, reward_choices, trained_rewards, tuned_choices
from .page_load import on_open

PROMPT_DATASET = "a prompt dataset saved in the Data tab, or a .jsonl file with a 'prompt' column"
PREFERENCE_DATASET = "a preference dataset saved in the Data tab, or a .jsonl file with chosen/rejected"


@dataclass
class Picker:
    dropdown: gr.Dropdown
    choices: Callable[[], list]


def _picker(choices: Callable[[], list], **dropdown) -> Picker:
    """An unrendered dropdown (a tab's form places it) that takes typed values too, filled from ``choices``."""
    return Picker(gr.Dropdown(choices(), allow_custom_value=True, render=False, **dropdown), choices)


def dataset_picker(kinds: list[str], info: str, *, optional: bool = False, label: str = "dataset") -> Picker:
    """Saved datasets of ``kinds``; ``optional`` offers "" (none) first and starts there."""
    if optional:
        return _picker(lambda: ["", *dataset_choices(kinds)], value="", label=label, info=info)
    return _picker(lambda: dataset_choices(kinds), label=label, info=info)


def adapter_picker() -> Picker:
    """Finished or stopped SFT runs, whose adapter an RL run can start from."""
    return _picker(
        adapter_choices,
        value="",
        label="adapter",
        info="start from a fine-tuned (SFT) run's adapter, or leave empty for the base model",
    )


def reward_picker(label: str = "reward") -> Picker:
    """What an RL run is rewarded with (or, for DPO, evaluated with)."""
    return _picker(
        reward_choices,
        value="lexicon",
        label=label,
        info="lexicon (VADER, offline), reward:<reward run>, classifier:<model>[:<label>]",
    )


def trained_reward_picker() -> Picker:
    """An optional finished reward-model run."""
    return _picker(
        lambda: ["", *trained_rewards()],
        value="",
        label="reward",
        info="optional: a reward model run, shown as an extra column",
    )


def tuned_picker() -> Picker:
    """Runs that saved an adapter (a class's too), several at once."""
    return _picker(
        tuned_choices,
        value=[],
        multiselect=True,
        label="tuned",
        info="finished runs (SFT, PPO, DPO, GRPO, RLOO), or adapter folders",
    )


def refresh_when_shown(app: gr.Blocks, tab: gr.Tab, pickers: list[Picker]) -> None:
    """Read ``pickers``' choices afresh when the page opens and whenever ``tab`` is selected."""
    outputs = [picker.dropdown for picker in pickers]

    def refresh():
        updates = [gr.update(choices=picker.choices()) for picker in pickers]
        return updates if len(updates) > 1 else updates[0]

    on_open(app, refresh, outputs)
    tab.select(refresh, None, outputs, api_visibility="private")
