"""Reward model tab: train a reward model on preference pairs, evaluate it, and try it on your own answers."""

from __future__ import annotations

import gradio as gr

from ..errors import UserError
from ..jobs import list_runs
from ..rewards.scorers import cached_scorer
from ..stages.reward import STAGE, RewardStageConfig, prefer
from .common import model_work, problem
from .forms import SCHEDULE, ConfigForm
from .monitor import RunMonitor, Watchers
from .pickers import PREFERENCE_DATASET, Picker, dataset_picker, refresh_when_shown

INTRO = """
### Step 3 · Reward model
People find it easier to say which of two answers is better than to write the perfect one. A **reward
model** learns those judgements from *chosen*/*rejected* pairs: a one-number head on a language model is
trained (TRL's `RewardTrainer`, LoRA) so that `r(chosen) > r(rejected)`, with the loss
`-log σ(r(chosen) − r(rejected))`. Eval accuracy is the share of held-out pairs it orders correctly; the
margin is how far apart it puts them. A trained reward model becomes a reward for PPO and a scorer in Compare.
"""

GROUPS = [
    ("Model and data", ["model", "dataset", "eval_fraction", "max_length"]),
    (
        "LoRA and 4-bit",
        ["lora_r", "lora_alpha", "lora_dropout", "target_modules", "load_in_4bit", "double_quant", "compute_dtype"],
    ),
    (
        "Training",
        [*SCHEDULE, "eval_steps", "logging_steps", "seed", "save_steps", "report_to"],
    ),
]


def finished_runs() -> list[str]:
    return [r["id"] for r in list_runs(STAGE) if r.get("state") == "finished"]


def results(run) -> list:
    report = run.read_eval()
    if report is None:
        return ["", None]
    dropped = ", ".join(f"{why} ({n})" for why, n in report["dropped"].items()) or "none"
    text = (
        f"**Eval accuracy {report['accuracy']:.3f}** on {report['n_eval']} held-out pairs · mean margin "
        f"{report['mean_margin']:.3f} · trained on {report['n_train']} pairs · dropped: {dropped}"
    )
    import pandas as pd

    return [text, pd.DataFrame({"margin": report["margins"]})]


def try_pair(run_id: str, prompt: str, answer_a: str, answer_b: str) -> str:
    if not run_id:
        return problem(UserError("Pick a finished reward model run first."))
    if not (answer_a or "").strip() and not (answer_b or "").strip():
        return problem(UserError("Write at least one answer to score."))
    try:
        scorer = cached_scorer(f"reward:{run_id}")
        if not (answer_b or "").strip():
            return f"Score: **{scorer.score([prompt or ''], [answer_a])[0]:.3f}**"
        verdict = prefer(scorer, prompt or "", answer_a or "", answer_b)
    except UserError as exc:
        return problem(exc)
    return (
        f"r(A) = {verdict['score_a']:.3f}, r(B) = {verdict['score_b']:.3f} → prefers **{verdict['preferred']}** "
        f"by {abs(verdict['margin']):.3f} (P(A better than B) = {verdict['probability_a']:.2f})"
    )


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    dataset = dataset_picker(["preference"], PREFERENCE_DATASET)
    form = ConfigForm(
        RewardStageConfig,
        STAGE,
        GROUPS,
        custom={"dataset": dataset.dropdown},
        defaults={"max_length": 192, "num_epochs": 2.0},
    )
    command = gr.Code(label="The same run from a terminal", language="shell", interactive=False)
    summary = gr.Markdown(render=False)
    histogram = gr.BarPlot(
        x="margin",
        y="margin",
        y_aggregate="count",
        x_bin=0.5,
        label="Margins on held-out pairs",
        height=220,
        render=False,
    )
    monitor = RunMonitor(
        STAGE,
        [["loss", "eval_loss"], ["accuracy", "eval_accuracy"], ["margin", "eval_margin"]],
        [summary, histogram],
        results,
    )
    summary.render()
    histogram.render()
    monitor.wire_form(form, command)

    gr.Markdown("#### Try it\nScore one answer (leave B empty), or compare two answers to the same prompt.")
    with gr.Row():
        model = gr.Dropdown(finished_runs(), label="Reward model run", allow_custom_value=True)
        prompt = gr.Textbox(label="Prompt", placeholder="How do I keep basil alive?")
    with gr.Row():
        answer_a = gr.Textbox(label="Answer A", lines=3)
        answer_b = gr.Textbox(label="Answer B (optional)", lines=3)
    verdict = gr.Markdown()
    gr.Button("Score").click(
        try_pair, [model, prompt, answer_a, answer_b], verdict, api_name="reward_try", **model_work()
    )

    model.focus(lambda: gr.update(choices=finished_runs()), None, model, api_visibility="private")
    refresh_when_shown(app, tab, [dataset, Picker(model, finished_runs)])
    monitor.wire(watchers, app, tab)
