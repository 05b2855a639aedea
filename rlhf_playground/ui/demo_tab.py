"""The guided demo: one button runs data → SFT → reward model → PPO → compare with small settings."""

from __future__ import annotations

import sys

import gradio as gr

from ..errors import UserError
from ..evaluation.compare import examples_markdown, headline, load_result, summary_markdown
from ..hosting import presets
from ..jobs import open_run
from ..stages import demo
from ..stages.demo import STAGE, DemoConfig
from .common import table
from .forms import ConfigForm
from .monitor import RunMonitor, Watchers, fmt_seconds, metric_frame

INTRO = """
### The whole pipeline in one click (for workshops)
One story from preference to judge: answers that are **warmer** while staying on the prompt. **Run the whole
demo** saves the bundled prompts and graded sentiment pairs (warm > mild > flat > gloomy answers to everyday
prompts) as datasets, then runs each step with small settings, one after another: **supervised fine-tuning** on
the warmer answers, a **reward model** (the bundled MiniLM encoder with a fresh head) on the pairs, **PPO** from
the fine-tuned model against that reward model, and a **comparison** of the base, SFT and PPO models on 16
prompts PPO never trained on. Two scorers that share nothing with the reward model judge it: **VADER** (a word
list) and the **judge** (a probe on the frozen base model, fitted to reviews); each win rate comes with its 95%
interval, and "reward hacking?" shows when the reward wins and neither of them does. PPO's KL penalty is
**adaptive**: it starts small and grows whenever the policy drifts past `target_kl` nats from the SFT model, so
the policy learns freely at first and can't run away later. The running step shows here live; each step is an
ordinary run you can also open in its tab.
"""

GROUPS = [
    (
        "Demo settings",
        [
            "model",
            "reward",
            "reward_model",
            "pairs",
            "sft_steps",
            "sft_learning_rate",
            "reward_steps",
            "ppo_steps",
            "ppo_batch_size",
            "ppo_learning_rate",
            "ppo_epochs",
            "compute_dtype",
            "target_kl",
            "seed",
            "compare_prompts",
            "max_new_tokens",
            "load_in_4bit",
        ],
    )
]


def changes(run) -> list | None:
    """What the demo tab shows of the stage it is at: re-sent when that run moves on."""
    _, child = demo.at(run)
    if child is None:
        return None
    status = child.status()
    return [child.id, status.get("state"), status.get("step"), child.metrics_size()]


def results(run) -> list:
    """The steps with their states, the running step's main plot and latest answers, and the result."""
    children = run.status().get("children") or {}
    lines = []
    for stage in demo.STEPS:
        if stage not in children:
            lines.append(f"- {stage}: waiting")
            continue
        status = open_run(children[stage]).status()
        line = f"- {stage}: run `{children[stage]}` {status.get('state')} "
        line += f"(step {status.get('step') or 0}/{status.get('total_steps') or '?'})"
        if status.get("state") == "running" and status.get("eta_s") is not None:
            line += f" · this step's ETA {fmt_seconds(status['eta_s'])}"
        lines.append(line)
    text = "\n".join(lines)
    if "compare" in children:
        path = open_run(children["compare"]).artifacts / "results.json"
        if path.exists():
            result = load_result(path)
            named = (item.partition("=") for item in result.settings.get("tuned", "").split(","))
            runs = ", ".join(f"{name} is run `{run_id}`" for name, _, run_id in named if run_id)
            text += f"\n\n#### The result\n{headline(result)}\n\n" + summary_markdown(result)
            text += "\n\n" + examples_markdown(result)
            text += f"\n\n<sub>{runs}; every answer and score is in the Compare tab.</sub>"
    stage, child = demo.at(run)
    if stage not in demo.LIVE_METRICS and "ppo" in children:  # past PPO: its reward and KL stay in view
        stage, child = "ppo", open_run(children["ppo"])
    plot = metric_frame(child.metrics(), demo.LIVE_METRICS[stage]) if stage in demo.LIVE_METRICS else None
    answers = child.read_artifact_json("samples.json") if stage == "ppo" else None
    return [text, plot, table(answers, ["prompt", "response", "reward"]) if answers else None]


def workshop_defaults() -> dict:
    """The host's presets for the demo (``RLHF_DEMO_SFT_STEPS=10`` ...); a wrong one is named in the log and the
    form keeps its usual defaults, so the app still starts."""
    try:
        return presets(DemoConfig)
    except UserError as exc:
        print(f"warning: {exc} The demo form keeps its usual defaults.", file=sys.stderr, flush=True)
        return {}


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    defaults = workshop_defaults()
    reward = gr.Radio(
        ["reward-model", "lexicon"],
        value=defaults.get("reward", "reward-model"),
        label="reward",
        render=False,
        info="what PPO maximises: the demo's reward model, or VADER sentiment",
    )
    form = ConfigForm(DemoConfig, STAGE, GROUPS, custom={"reward": reward}, defaults=defaults, accelerate=False)
    command = gr.Code(label="The same demo from a terminal", language="shell", interactive=False)
    steps = gr.Markdown(render=False, elem_id="demo-steps")
    live = gr.LinePlot(x="step", y="value", color="metric", label="the running step", height=220, render=False)
    answers = gr.Dataframe(
        headers=["prompt", "response", "reward"], label="PPO's latest answers", wrap=True, render=False
    )
    monitor = RunMonitor(STAGE, [], [steps, live, answers], results, start_label="Run the whole demo", changes=changes)
    steps.render()
    with gr.Row():
        live.render()
        answers.render()
    monitor.wire_form(form, command)
    monitor.wire(watchers, app, tab)
