"""Compare tab: the base model and tuned runs answer the same prompts, side by side, scored."""

from __future__ import annotations

import math

import gradio as gr

from ..evaluation.compare import CompareConfig, load_result, score_distribution, summary_markdown
from ..stages.compare import STAGE
from .choices import JUDGED
from .forms import ConfigForm
from .monitor import RunMonitor, Watchers
from .pickers import dataset_picker, refresh_when_shown, trained_reward_picker, tuned_picker
from .sessions import offer_download

INTRO = """
### Step 6 · Compare base and tuned
Did the tuning work? The base model and every tuned run you pick answer **the same prompts with the same
settings and seeds**, and each answer gets a sentiment score (the VADER lexicon offline, or a text classifier
such as `lvwerra/distilbert-imdb` with its label and positive probability) and, if you pick a reward model,
its reward. The win rate is the share of prompts where the tuned answer scores higher than the base answer
(a tie counts half). Score with the **judge** (a sentiment classifier trained here on the bundled reviews, that
no policy trains against) and pick the reward the model was trained on: when the reward rose but the judge did
not, the summary says *reward hacking?*; it also flags answers that collapsed onto one stock reply. Adapters
share one copy of the base weights and prompts are answered in batches, so comparing several runs costs little
more than one.
"""

GROUPS = [
    ("Models and scores", ["base", "tuned", "scorer", "reward", "relevance"]),
    ("Prompts", ["prompts_text", "dataset", "n_prompts", "sample", "seed"]),
    ("Generation (the same for every model)", ["max_new_tokens", "temperature", "top_p", "batch_size"]),
]


def _sentiment(output: dict, lexicon: bool) -> str:
    """One answer's score as a person reads it: the label, then the compound score or positive probability."""
    score, label, positive = output.get("score"), output.get("label"), output.get("positive")
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return "no score"
    if label is None:
        return f"{score:+.3f}"
    if lexicon:
        return f"{label} · {score:+.2f}"
    return f"{label} · P(pos) {positive:.2f}"


def display_frame(result):
    """The side-by-side table: the prompt, then per model its answer, its sentiment and (if any) its reward."""
    import pandas as pd

    lexicon = result.scorer == "lexicon"
    records = []
    for row in result.rows:
        record = {"prompt": row["prompt"]}
        for name in result.models:
            out = row["outputs"][name]
            record[name] = out["response"]
            record[f"{name} · sentiment"] = _sentiment(out, lexicon)
            for scorer in result.scorers[1:]:  # the other scorers' numbers
                value = (out.get("scores") or {}).get(scorer)
                record[f"{name} · {scorer}"] = None if value is None else round(value, 3)
            if result.reward:
                reward = out.get("reward")
                record[f"{name} · reward"] = None if reward is None else round(reward, 3)
        records.append(record)
    return pd.DataFrame.from_records(records)


def results(run) -> list:
    path = run.artifacts / "results.json"
    if not path.exists():
        return ["", None, None, None, None]
    result = load_result(path)
    summary = result.summary_frame().round(3)
    return [
        summary_markdown(result),
        summary,
        score_distribution(result),
        display_frame(result),
        offer_download(run.artifacts / "table.csv"),
    ]


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    tuned, reward = tuned_picker(), trained_reward_picker()
    dataset = dataset_picker(
        ["prompt"], "a prompt dataset from the Data tab, used when no prompts are typed", optional=True
    )
    custom = {
        "base": gr.Dropdown(
            ["default"],
            value="default",
            label="base",
            allow_custom_value=True,
            render=False,
            info="the model the runs were tuned from: 'default' (bundled SmolLM2), a folder or a Hub name",
        ),
        "tuned": tuned.dropdown,
        "prompts_text": gr.Textbox(
            "",
            label="prompts",
            lines=4,
            render=False,
            placeholder="one prompt per line (or leave empty and pick a dataset)",
        ),
        "dataset": dataset.dropdown,
        "sample": gr.Radio(
            ["first", "random"],
            value="first",
            label="sample",
            render=False,
            info="the dataset's first prompts, or a random pick with the seed",
        ),
        "scorer": gr.Dropdown(
            JUDGED,
            value="lexicon",
            label="scorer",
            allow_custom_value=True,
            render=False,
            info="sentiment: lexicon (VADER, offline), judge (a classifier no policy trains against), "
            "classifier:<model>, or several comma-separated (judge,lexicon)",
        ),
        "reward": reward.dropdown,
    }
    form = ConfigForm(
        CompareConfig,
        STAGE,
        GROUPS,
        custom=custom,
        accelerate=False,
        open_groups=2,
        defaults={"max_new_tokens": 40, "n_prompts": 8},
    )
    command = gr.Code(label="The same comparison from a terminal", language="shell", interactive=False)
    summary = gr.Markdown(render=False, elem_id="compare-summary")
    summary_table = gr.Dataframe(label="Summary per model", interactive=False, render=False)
    chart = gr.ScatterPlot(
        x="model", y="score", color="model", label="Scores of every answer, per model", height=260, render=False
    )
    answers = gr.Dataframe(
        label="Answers side by side", interactive=False, wrap=True, render=False, elem_id="compare-table"
    )
    csv = gr.File(label="The table as CSV", render=False)
    monitor = RunMonitor(STAGE, [], [summary, summary_table, chart, answers, csv], results, start_label="Compare")
    summary.render()
    with gr.Row():
        summary_table.render()
        chart.render()
    answers.render()
    csv.render()
    monitor.wire_form(form, command)
    refresh_when_shown(app, tab, [tuned, dataset, reward])
    monitor.wire(watchers, app, tab)
