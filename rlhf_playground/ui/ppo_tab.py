"""PPO tab: reinforcement learning from a reward, with our compact PPO, run as a job and watched live."""

from __future__ import annotations

import json

import gradio as gr

from ..ppo.config import PPOStageConfig
from ..stages.ppo import STAGE
from .common import table
from .forms import ConfigForm
from .monitor import RunMonitor, Watchers
from .pickers import PROMPT_DATASET, adapter_picker, dataset_picker, refresh_when_shown, reward_picker

INTRO = """
### Step 4 · Reinforcement learning with PPO
The policy answers a batch of prompts, a **reward** scores each answer, and PPO nudges the LoRA adapter
toward answers that scored well, while a **KL penalty** keeps it close to the reference model (the same
weights with the adapter switched off) so it doesn't forget how to write. Watch the reward climb and the
KL grow; the table shows the latest answers and their rewards. The **critic** (the value head) learns to
foresee each answer's return: its explained variance climbs towards 1 as it does, and the log says so when
it stays below 0. The default reward is the offline VADER
sentiment lexicon (positive answers score high); a reward model from step 3 or any text classifier
(e.g. `classifier:lvwerra/distilbert-imdb:POSITIVE`, as in the course) works too.
"""

GROUPS = [
    ("Policy, prompts and reward", ["model", "adapter", "dataset", "reward", "steps"]),
    ("Sampling", ["batch_size", "max_new_tokens", "temperature", "top_k", "top_p", "max_prompt_length"]),
    (
        "PPO",
        [
            "mini_batch_size",
            "ppo_epochs",
            "learning_rate",
            "value_learning_rate",
            "clip_range",
            "clip_range_value",
            "vf_coef",
            "gamma",
            "lam",
            "max_grad_norm",
        ],
    ),
    (
        "KL penalty and reward shaping",
        [
            "init_kl_coef",
            "adaptive_kl",
            "target_kl",
            "kl_horizon",
            "kl_estimator",
            "reward_scaling",
            "penalize_non_ending",
            "non_ending_penalty",
        ],
    ),
    (
        "LoRA, 4-bit, precision, evaluation and tracking",
        ["lora_r", "lora_alpha", "lora_dropout", "load_in_4bit", "compute_dtype", "eval_prompts", "seed", "report_to"],
    ),
]


def results(run) -> list:
    samples_path, e = run.artifacts / "samples.json", run.read_eval()
    samples = None
    if samples_path.exists():
        samples = table(json.loads(samples_path.read_text(encoding="utf-8")), ["prompt", "response", "reward"])
    summary = ""
    if e is not None:
        summary = (
            f"**Held-out prompts ({e['held_out_prompts']}), mean reward of greedy answers:** "
            f"{e['reward_before']:.3f} before → **{e['reward_after']:.3f}** after "
            f"(final KL to the reference {e['final_kl']:.2f} nats per answer)."
        )
    return [summary, samples]


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    menus = {
        "dataset": dataset_picker(["prompt"], PROMPT_DATASET),
        "adapter": adapter_picker(),
        "reward": reward_picker(),
    }
    form = ConfigForm(
        PPOStageConfig,
        STAGE,
        GROUPS,
        custom={field: picker.dropdown for field, picker in menus.items()},
        defaults={
            "steps": 10,
            "batch_size": 8,
            "mini_batch_size": 4,
            "max_new_tokens": 24,
            "learning_rate": 1e-4,
            "reward_scaling": "whiten",
            "eval_prompts": 8,
        },
    )
    command = gr.Code(label="The same run from a terminal", language="shell", interactive=False)
    evaluation = gr.Markdown(render=False)
    samples = gr.Dataframe(
        headers=["prompt", "response", "reward"],
        label="Latest answers and their rewards",
        interactive=False,
        wrap=True,
        render=False,
    )
    monitor = RunMonitor(
        STAGE,
        [
            ["reward_mean", "reward_min", "reward_max"],
            ["kl"],
            ["distinct_2"],
            ["explained_variance"],
            ["value_mean", "return_mean"],
            ["entropy"],
            ["value_loss", "clipfrac", "ratio_mean"],
            ["response_length_mean"],
        ],
        [evaluation, samples],
        results,
    )
    evaluation.render()
    samples.render()
    monitor.wire_form(form, command)
    refresh_when_shown(app, tab, list(menus.values()))
    monitor.wire(watchers, app, tab)
