"""Fine-tune tab: supervised fine-tuning with LoRA or QLoRA, run as a job and watched live."""

from __future__ import annotations

import json

import gradio as gr

from ..models import gpu_present
from ..stages.sft import STAGE, SFTStageConfig
from .common import table
from .forms import SCHEDULE, ConfigForm
from .monitor import RunMonitor, Watchers
from .pickers import dataset_picker, refresh_when_shown

SFT_KINDS = ["text", "prompt_completion", "unpaired_preference", "conversation", "preference"]

INTRO = """
### Step 2 · Supervised fine-tuning (SFT)
Before RL, the model learns by example: TRL's `SFTTrainer` trains it to continue each text of a dataset
(or to answer each prompt with its completion). Only a small **LoRA** adapter is trained; with **4-bit**
(QLoRA) the frozen base weights are stored in NF4, using about a quarter of the memory. The job runs in
its own process: watch the loss fall, stop it at any time, and compare answers before and after below.
"""

GROUPS = [
    ("Model and data", ["model", "dataset", "max_length"]),
    ("LoRA", ["lora_r", "lora_alpha", "lora_dropout", "target_modules"]),
    (
        "Training",
        [*SCHEDULE, "seed", "logging_steps", "gradient_checkpointing", "save_steps", "report_to"],
    ),
    ("4-bit (QLoRA) and saving", ["load_in_4bit", "double_quant", "compute_dtype", "merge"]),
    ("Samples at the end", ["eval_prompts", "max_new_tokens"]),
]


def samples_table(run):
    path = run.artifacts / "samples.json"
    if not path.exists():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))
    return table(rows, ["prompt", "base", "tuned"], limit=50)


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    dataset = dataset_picker(
        SFT_KINDS,
        "a dataset saved in the Data tab (text, prompt/completion, chat or preference), or a path to a .jsonl file",
    )
    form = ConfigForm(
        SFTStageConfig,
        STAGE,
        GROUPS,
        custom={"dataset": dataset.dropdown},
        defaults={"load_in_4bit": gpu_present(), "max_steps": 30},
    )
    command = gr.Code(label="The same run from a terminal", language="shell", interactive=False)
    samples = gr.Dataframe(
        headers=["prompt", "base", "tuned"],
        label="Answers before (base) and after (tuned)",
        interactive=False,
        wrap=True,
        render=False,
    )
    monitor = RunMonitor(STAGE, [["loss"], ["mean_token_accuracy"]], [samples], lambda run: [samples_table(run)])
    samples.render()

    monitor.wire_form(form, command)
    refresh_when_shown(app, tab, [dataset])
    monitor.wire(watchers, app, tab)
