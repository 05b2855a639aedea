"""The guided demo: one button runs data → SFT → reward model → PPO → compare with small settings."""

from __future__ import annotations

import gradio as gr

from ..compare import load_result
from ..jobs import open_run
from ..stages.demo import STAGE, DemoConfig
from .compare_tab import summary_markdown
from .forms import ConfigForm
from .monitor import RunMonitor

INTRO = """
### The whole pipeline in one click (for workshops)
**Run the whole demo** saves the bundled prompt and preference samples as datasets, then runs each step with
small settings, one after another: **supervised fine-tuning** on the preferred answers, a **reward model** on
the chosen/rejected pairs, **PPO** from the fine-tuned model against that reward model, and a **comparison** of
the base, SFT and PPO models on prompts PPO never trained on. Each step is an ordinary run: open its tab to
watch it live. On a laptop CPU with the bundled SmolLM2-135M it takes about a quarter of an hour.
"""

GROUPS = [
    (
        "Demo settings",
        [
            "model",
            "reward",
            "sft_steps",
            "reward_steps",
            "ppo_steps",
            "compare_prompts",
            "max_new_tokens",
            "load_in_4bit",
        ],
    )
]
STEPS = ["sft", "reward", "ppo", "compare"]


def results(run) -> list:
    children = run.status().get("children") or {}
    lines = []
    for stage in STEPS:
        if stage not in children:
            lines.append(f"- {stage}: waiting")
            continue
        status = open_run(children[stage]).status()
        lines.append(
            f"- {stage}: run `{children[stage]}` {status.get('state')} "
            f"(step {status.get('step') or 0}/{status.get('total_steps') or '?'})"
        )
    text = "\n".join(lines)
    if "compare" in children:
        path = open_run(children["compare"]).artifacts / "results.json"
        if path.exists():
            text += "\n\n#### The result (details in the Compare tab)\n" + summary_markdown(load_result(path))
    return [text]


def build(timer: gr.Timer, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    reward = gr.Radio(
        ["reward-model", "lexicon"],
        value="reward-model",
        label="reward",
        render=False,
        info="what PPO maximises: the demo's reward model, or VADER sentiment",
    )
    form = ConfigForm(DemoConfig, STAGE, GROUPS, custom={"reward": reward}, accelerate=False)
    command = gr.Code(label="The same demo from a terminal", language="shell", interactive=False)
    steps = gr.Markdown(render=False, elem_id="demo-steps")
    monitor = RunMonitor(STAGE, [], [steps], results, start_label="Run the whole demo")
    steps.render()
    monitor.wire_form(form, command, app)
    monitor.wire(timer, app, tab)
