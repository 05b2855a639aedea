"""Beyond PPO: DPO, GRPO and RLOO with TRL's trainers, each run as a job, and a comparison of all four methods."""

from __future__ import annotations

import json

import gradio as gr

from ..evaluation import methods
from ..stages.dpo import STAGE as DPO
from ..stages.dpo import DPOStageConfig
from ..stages.grpo import STAGE as GRPO
from ..stages.grpo import GRPOStageConfig
from ..stages.rloo import STAGE as RLOO
from ..stages.rloo import RLOOStageConfig
from .common import table
from .forms import ConfigForm
from .monitor import RunMonitor, Watchers
from .pickers import (
    PREFERENCE_DATASET,
    PROMPT_DATASET,
    adapter_picker,
    dataset_picker,
    refresh_when_shown,
    reward_picker,
)

INTRO = """
### Step 5 · Beyond PPO: DPO, GRPO and RLOO
PPO (step 4) trains a value model next to the policy. These three newer methods drop parts of that machinery.
Each runs TRL's own trainer with a LoRA adapter; the reference is the same weights with the adapter switched off.
All three score greedy answers to held-out prompts before and after, like PPO, so the
**Method comparison** at the bottom can put them side by side.
"""

EXPLAIN = {
    DPO: """**DPO** (Direct Preference Optimization) skips the reward model and the sampling: it learns straight
from chosen/rejected pairs (a preference dataset from step 1). It raises the likelihood of the chosen answer relative
to the rejected one, both measured against the reference:
`loss = −log σ(β · [(log π − log π_ref)(chosen) − (log π − log π_ref)(rejected)])`.
Watch the loss fall, **rewards/accuracies** (share of pairs where chosen wins) climb to 1, and the **margins** grow.
`eval_reward` only scores held-out answers for the comparison; DPO never trains on it.""",
    GRPO: """**GRPO** (Group Relative Policy Optimization) samples `num_generations` answers to each prompt and uses
the group as its own baseline, so there is no value model: `advantage = (r − mean of the group) / std of the group`,
then PPO's clipped loss, with an optional KL penalty (`beta`). Same prompts and rewards as PPO.
Groups where every answer scores the same teach nothing (`frac_reward_zero_std`).""",
    RLOO: """**RLOO** (REINFORCE Leave-One-Out) also samples several answers per prompt; each answer's baseline is the
mean reward of the *other* answers to the same prompt: `advantage = r_i − mean(r_j, j ≠ i)`, a low-variance
REINFORCE estimate with no value model. `beta` folds the KL to the reference into the reward.""",
}

ONLINE_GROUPS = [
    ("Policy, prompts and reward", ["model", "adapter", "dataset", "reward", "steps"]),
    ("Sampling", ["batch_size", "num_generations", "max_new_tokens", "temperature", "top_k", "top_p"]),
    ("Optimisation", ["learning_rate", "beta", "mini_batch_size", "num_iterations", "epsilon"]),
    (
        "LoRA, 4-bit, evaluation and tracking",
        ["lora_r", "lora_alpha", "lora_dropout", "load_in_4bit", "eval_prompts", "seed", "report_to"],
    ),
]
GROUPS = {
    GRPO: [*ONLINE_GROUPS[:2], ("Optimisation", [*ONLINE_GROUPS[2][1], "scale_rewards"]), ONLINE_GROUPS[3]],
    RLOO: [*ONLINE_GROUPS[:2], ("Optimisation", [*ONLINE_GROUPS[2][1], "normalize_advantages"]), ONLINE_GROUPS[3]],
    DPO: [
        ("Policy and preference pairs", ["model", "adapter", "dataset", "steps", "batch_size"]),
        ("DPO", ["learning_rate", "beta", "loss_type", "max_length"]),
        ("LoRA and 4-bit", ["lora_r", "lora_alpha", "lora_dropout", "target_modules", "load_in_4bit", "double_quant"]),
        (
            "Evaluation (for the method comparison)",
            ["eval_reward", "eval_dataset", "eval_prompts", "max_new_tokens", "seed", "report_to"],
        ),
    ],
}
CONFIGS = {DPO: DPOStageConfig, GRPO: GRPOStageConfig, RLOO: RLOOStageConfig}
METRICS = {
    DPO: [["loss"], ["rewards/accuracies"], ["rewards/margins", "rewards/chosen", "rewards/rejected"]],
    GRPO: [["reward"], ["reward_std", "frac_reward_zero_std"], ["kl"], ["entropy"], ["completions/mean_length"]],
}
METRICS[RLOO] = METRICS[GRPO]
DEFAULTS = {
    GRPO: {"steps": 10, "max_new_tokens": 24, "eval_prompts": 8},
    RLOO: {"steps": 10, "max_new_tokens": 24, "eval_prompts": 8},
    DPO: {"steps": 10, "eval_prompts": 8, "max_new_tokens": 24},
}
PROMPT_KINDS = ["prompt", "preference"]  # a saved preference dataset keeps its extracted prompts


def evaluation_summary(run) -> str:
    e = run.read_eval()
    if e is None:
        return ""
    return (
        f"**Held-out prompts ({e['held_out_prompts']}), mean {e['reward']} reward of greedy answers:** "
        f"{e['reward_before']:.3f} before → **{e['reward_after']:.3f}** after."
    )


def online_results(run) -> list:
    path = run.artifacts / "samples.json"
    samples = (
        table(json.loads(path.read_text(encoding="utf-8")), ["prompt", "response", "reward"]) if path.exists() else None
    )
    return [evaluation_summary(run), samples]


def dpo_results(run) -> list:
    return [evaluation_summary(run)]


def method_panel(stage: str, app: gr.Blocks, watchers: Watchers, tabs: tuple[gr.Tab, ...]):
    """One method's explanation, form and live monitor (following runs when one of ``tabs`` opens);
    returns its menus, to refresh."""
    gr.Markdown(EXPLAIN[stage])
    online = stage != DPO
    kinds = PROMPT_KINDS if online else ["preference"]
    menus = {
        "dataset": dataset_picker(kinds, PROMPT_DATASET if online else PREFERENCE_DATASET),
        "adapter": adapter_picker(),
    }
    reward_field = "reward" if online else "eval_reward"
    menus[reward_field] = reward_picker(label=reward_field.replace("_", " "))
    if not online:
        menus["eval_dataset"] = dataset_picker(
            ["prompt"],
            "the prompt dataset PPO/GRPO/RLOO used, for the same held-out prompts; empty: prompts of held-out pairs",
            optional=True,
            label="eval dataset",
        )
    form = ConfigForm(
        CONFIGS[stage],
        stage,
        GROUPS[stage],
        custom={field: picker.dropdown for field, picker in menus.items()},
        defaults=DEFAULTS[stage],
    )
    command = gr.Code(label="The same run from a terminal", language="shell", interactive=False)
    evaluation = gr.Markdown(render=False)
    results = [evaluation]
    if online:
        results.append(
            gr.Dataframe(
                headers=["prompt", "response", "reward"],
                label="Latest answers and rewards",
                interactive=False,
                wrap=True,
                render=False,
            )
        )
    monitor = RunMonitor(stage, METRICS[stage], results, online_results if online else dpo_results)
    for widget in results:
        widget.render()
    monitor.wire_form(form, command)
    monitor.wire(watchers, app, *tabs)
    return list(menus.values())


def comparison_view(group: str | None):
    """The comparison table and chart for ``group`` (the best-covered group when None)."""
    import pandas as pd

    found = methods.compare(group)
    rows = found["rows"]
    frame = pd.DataFrame([{k: r[k] for k in methods.COLUMNS} for r in rows], columns=methods.COLUMNS)
    chart = pd.DataFrame(
        [
            {"run": f"{r['method']} · {r['run'][-4:]}", "reward": r[key], "when": label}
            for r in rows
            for key, label in (("reward before", "before"), ("reward after", "after"))
            if r[key] is not None
        ],
        columns=["run", "reward", "when"],
    )
    note = (
        f"{len(rows)} finished run(s) with base model, held-out prompts and reward **{found['group']}**."
        if rows
        else "No finished PPO, GRPO, RLOO or DPO run with a held-out evaluation yet."
    )
    return gr.update(choices=found["groups"], value=found["group"]), note, frame, chart


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    menus = []
    with gr.Tabs():
        for stage, title in ((DPO, "DPO"), (GRPO, "GRPO"), (RLOO, "RLOO")):
            with gr.Tab(title, id=f"method-{stage}") as sub:
                menus += method_panel(stage, app, watchers, (tab, sub))

    gr.Markdown(
        "### Method comparison\nRuns compare only when they share the base model, the held-out prompts "
        "(dataset, count, seed) and the reward that scored them; pick such a group. Wall clock covers "
        "loading, both evaluations and training; *gain per minute* is the reward gained per minute of it."
    )
    group = gr.Dropdown([], label="base model · held-out prompts · reward", allow_custom_value=True)
    refresh = gr.Button("Refresh", size="sm")
    note = gr.Markdown()
    frame = gr.Dataframe(headers=methods.COLUMNS, label="Held-out reward reached by each run", interactive=False)
    chart = gr.BarPlot(x="run", y="reward", color="when", label="Mean held-out reward before and after", height=260)
    outputs = [group, note, frame, chart]
    refresh.click(comparison_view, group, outputs, api_name="methods_table")
    group.input(comparison_view, group, outputs, api_visibility="private")
    refresh_when_shown(app, tab, menus)
    tab.select(comparison_view, group, outputs, api_visibility="private")
