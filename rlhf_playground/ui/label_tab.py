"""Label tab: be the human in RLHF. Judge pairs of sampled answers; your choices become a preference
dataset, a reward model learns your taste from it, and PPO moves the model toward it. A class labels
together into its instructor's dataset."""

from __future__ import annotations

import functools

import gradio as gr

from .. import labels
from ..data.prompts import prompt_text
from ..errors import UserError
from ..jobs import runner
from ..labels import Sampling, classes, classroom, learn
from .choices import dataset_choices, trained_rewards, tuned_choices
from .common import problem
from .monitor import Watchers
from .take_home import dataset_share_row

INTRO = """
### Label · be the human in RLHF
Two answers the model sampled for the same prompt: which is better? Click (or press **1** / **2**, **3** for
a tie, **space** to skip, **u** to undo). Every choice is saved at once into a preference dataset in TRL's
format (`prompt`, `chosen`, `rejected`) that the Reward model and DPO tabs list. Then let a reward model
learn your taste, and PPO move the model toward it. Every tenth pair is an earlier one again, sides
swapped: how consistent are you?
"""
CLASS_INTRO = """
#### A class that labels together
An instructor starts a class and shows its code; attendees type it and label into the class's one dataset
(each under an anonymous id). The instructor trains on the class's labels; the class sees their finished
runs in Compare and Try models.
"""
NO_REWARD = ("(none)", "")
CLASS_POLL_S = 3.0
CODE_STYLE = "font-size:3.5rem;font-weight:700;letter-spacing:.35em;text-align:center;font-family:monospace"


OPEN_WITH = ("RLHF_LABEL_MODEL", "default")  # the model the tab opens with; a host may pick their own


def first_model() -> str:
    import os

    return os.environ.get(OPEN_WITH[0], "").strip() or OPEN_WITH[1]


def model_choices() -> list[tuple[str, str]]:
    first = first_model()
    bundled = [("bundled SmolLM2-135M-Instruct", "default")]
    return [*([(first, first)] if first != "default" else []), *bundled, *tuned_choices()]


def prompt_choices() -> list[tuple[str, str]]:
    return [("bundled sample · prompts", labels.BUNDLED_PROMPTS), *[(n, n) for n in dataset_choices(["prompt"])]]


def reward_choices() -> list[tuple[str, str]]:
    """No reward, or a trained reward model whose opinion of each pair is shown."""
    return [NO_REWARD, *[(f"reward · {ref.removeprefix('reward:')}", ref) for ref in trained_rewards()]]


def _sampling(temperature, top_p, max_new_tokens) -> Sampling:
    """The widgets' sampling, rounded: a source is kept per setting, and 0.9000001 is no new one."""
    return Sampling(round(float(temperature or 0), 2), round(float(top_p or 0), 2), int(max_new_tokens or 0))


def _target(model, prompts, dataset, temperature, top_p, max_new_tokens) -> labels.Target:
    """Your own labels with these settings, or, in a class, the class's dataset and settings."""
    klass = classes.joined()
    if klass is not None:
        return classroom.target(klass, classes.attendee_id(klass))
    return labels.personal(dataset or "", model or "", prompts or "", _sampling(temperature, top_p, max_new_tokens))


def stats_markdown(target: labels.Target, reward: str) -> str:
    stats = labels.stats(target, reward)
    yours = stats["yours"]
    lines = [
        f"**{yours['pairs']} labels** in `{target.folder.name}` · {yours['ties']} ties · {yours['skips']} skipped",
        f"agreement with the sentiment lexicon: {labels.share(stats['lexicon'])}",
    ]
    if reward:
        lines.append(f"with the reward model `{reward}`: {labels.share(stats['reward'])}")
    lines.append(f"your consistency on pairs shown again: {labels.share(stats['consistency'])}")
    return " · ".join(lines)


def show(model, prompts, dataset, reward, temperature, top_p, max_new_tokens, notice: str = ""):
    """(prompt, answer A, answer B, pair id, counter, message) for the pair to judge now."""
    target = None
    try:
        target = _target(model, prompts, dataset, temperature, top_p, max_new_tokens)
        pair = labels.next_pair(target)
    except UserError as exc:
        counter = stats_markdown(target, reward or "") if target is not None else ""
        return "", "", "", "", counter, problem(exc)
    notices = target.source().notices
    notice = notice or (f"*{notices[-1]}*" if notices else "")
    sampling = ", ".join(f"{k} {v}" for k, v in vars(target.sampling).items())
    where = f"class {target.scope.partition(':')[2]} · " if target.scope.startswith("class:") else ""
    title = f"**Prompt** ({where}{target.model} · {sampling}):\n\n"
    return title + prompt_text(pair.prompt), pair.a, pair.b, pair.id, stats_markdown(target, reward or ""), notice


def choose(choice: str, pair_id: str, *settings):
    """Record ``choice`` on the pair shown, then show the next one."""
    notice = ""
    try:
        target = _target(*settings[:3], *settings[4:])
        labels.choose(target, pair_id, choice, settings[3] or "")
    except UserError as exc:
        notice = problem(exc)
    return show(*settings, notice=notice)


def undo(*settings):
    try:
        target = _target(*settings[:3], *settings[4:])
        notice = "" if labels.undo(target) else "*Nothing to undo.*"
    except UserError as exc:
        notice = problem(exc)
    return show(*settings, notice=notice)


# ------------------------------------------------------------------ learning from the labels
def _own_labels(dataset: str) -> labels.LabelSet:
    """The labels this session may train on: its own, or its class's when it is the instructor."""
    klass = classes.joined()
    if klass is None:
        return labels.personal_labels(dataset or "")
    if not classes.is_instructor(klass):
        raise UserError(f"Only the instructor of class {klass.code} trains on the class's labels.")
    return labels.LabelSet(klass.folder())


def train_reward(dataset: str) -> str:
    try:
        run = runner.start("reward", learn.reward_config(_own_labels(dataset)))
    except UserError as exc:
        return problem(exc)
    return (
        f"Reward run **{run.id}** started on `{run.config()['dataset']}`: watch it in the Reward model tab, "
        "then press *Then PPO against it*."
    )


def train_ppo(dataset: str, prompts: str, max_new_tokens, model: str = "default") -> str:
    try:
        name = _own_labels(dataset).name
        klass = classes.joined()
        prompts, model = (klass.prompts, klass.model) if klass else (prompts, model)
        reward_id, config = learn.ppo_config(
            name, prompts or labels.BUNDLED_PROMPTS, int(max_new_tokens or 48), (model or "default").strip()
        )
        run = runner.start("ppo", config)
    except UserError as exc:
        return problem(exc)
    return f"{learn.held_out_line(reward_id)}\n\nPPO run **{run.id}** started against it: watch it in the PPO tab."


# ------------------------------------------------------------------ class mode
def class_view():
    """(the code shown big, the class counter, whether to keep polling it)."""
    klass = classes.joined()
    if klass is None:
        return "", "*Not in a class: your labels are your own.*", gr.Timer(active=False)
    stats = classroom.class_stats(klass)
    role = "you are its instructor" if classes.is_instructor(klass) else "you are an attendee"
    code = f'<div id="label-class-code-shown" style="{CODE_STYLE}">{klass.code}</div>'
    counter = (
        f"**Class {klass.code}** ({role}) · **{stats['pairs']} labels** from **{stats['labelers']} attendees** · "
        f"attendees agree on {labels.share(stats['labeler_agreement'])} of the pairs two or more judged · "
        f"model `{klass.model}`, prompts `{klass.prompts}`"
    )
    return code, counter, gr.Timer(active=True)


def start_class(model, prompts, temperature, top_p, max_new_tokens):
    try:
        classroom.start_class(model or "", prompts or "", _sampling(temperature, top_p, max_new_tokens))
    except UserError as exc:
        return "", problem(exc), gr.Timer(active=False)
    return class_view()


def join_class(code: str):
    try:
        classes.join(code)
    except UserError as exc:
        return "", problem(exc), gr.Timer(active=False)
    return class_view()


def leave_class():
    klass = classes.joined()
    try:
        if klass is not None and classes.is_instructor(klass):
            classes.end_class(klass.code)
    except UserError as exc:
        return "", problem(exc), gr.Timer(active=False)
    classes.leave()
    return class_view()


def build(watchers: Watchers, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    with gr.Row():
        model = gr.Dropdown(
            model_choices(), value=first_model(), label="Model", allow_custom_value=True, elem_id="label-model"
        )
        prompts = gr.Dropdown(
            prompt_choices(),
            value=labels.BUNDLED_PROMPTS,
            label="Prompts",
            allow_custom_value=True,
            elem_id="label-prompts",
        )
        dataset = gr.Textbox(
            value=labels.DEFAULT_DATASET, label="Save labels as", elem_id="label-dataset", info="a workspace dataset"
        )
        reward = gr.Dropdown(
            reward_choices(),
            value="",
            label="Agreement with a reward model",
            elem_id="label-reward",
            info="optional: how often a trained reward model agrees with you",
        )
    with gr.Accordion("Sampling", open=False):
        with gr.Row():
            temperature = gr.Number(value=Sampling.temperature, label="temperature", elem_id="label-temperature")
            top_p = gr.Number(value=Sampling.top_p, label="top p", elem_id="label-top-p")
            max_new_tokens = gr.Number(
                value=Sampling.max_new_tokens, precision=0, label="max new tokens", elem_id="label-max-new-tokens"
            )
    prompt = gr.Markdown(elem_id="label-prompt")
    with gr.Row(equal_height=True):
        answer_a = gr.Textbox(label="Answer A", lines=6, interactive=False, elem_id="label-answer-a")
        answer_b = gr.Textbox(label="Answer B", lines=6, interactive=False, elem_id="label-answer-b")
    with gr.Row():
        buttons = {
            "a": gr.Button("A is better (1)", variant="primary", elem_id="label-a"),
            "b": gr.Button("B is better (2)", variant="primary", elem_id="label-b"),
            "tie": gr.Button("Tie (3)", elem_id="label-tie"),
            "skip": gr.Button("Skip (space)", elem_id="label-skip"),
        }
        undo_btn = gr.Button("Undo (u)", elem_id="label-undo")
    counter = gr.Markdown(elem_id="label-stats")
    notice = gr.Markdown(elem_id="label-notice")
    pair_id = gr.Textbox(visible=False, elem_id="label-pair-id")
    settings = [model, prompts, dataset, reward, temperature, top_p, max_new_tokens]
    shown = [prompt, answer_a, answer_b, pair_id, counter, notice]
    for choice, button in buttons.items():
        button.click(functools.partial(choose, choice), [pair_id, *settings], shown, api_visibility="private")
    undo_btn.click(undo, settings, shown, api_name="label_undo")
    # For scripts: the pair to judge now, and a choice on it ("a", "b", "tie" or "skip").
    choice_box = gr.Textbox(visible=False)
    submit = gr.Button(visible=False)
    submit.click(choose, [choice_box, pair_id, *settings], shown, api_name="label_submit")
    next_btn = gr.Button(visible=False)
    next_btn.click(show, settings, shown, api_name="label_next")

    with gr.Accordion("Learn from your labels", open=True):
        with gr.Row():
            reward_btn = gr.Button("Train a reward model on my labels", elem_id="label-train-reward")
            ppo_btn = gr.Button("Then PPO against it", elem_id="label-train-ppo")
        learned = gr.Markdown(elem_id="label-train-message")
    reward_btn.click(train_reward, dataset, learned, api_name="label_train_reward")
    ppo_btn.click(train_ppo, [dataset, prompts, max_new_tokens, model], learned, api_name="label_train_ppo")
    with gr.Accordion("Share your labels to the Hugging Face Hub", open=False):
        dataset_share_row(dataset, "label_share", lambda typed: _own_labels(typed).name)

    with gr.Accordion("Class mode", open=False):
        gr.Markdown(CLASS_INTRO)
        code_shown = gr.HTML()
        with gr.Row():
            code = gr.Textbox(label="Class code", placeholder="e.g. K7QXM", elem_id="label-class-code")
            join_btn = gr.Button("Join the class", elem_id="label-class-join")
            start_btn = gr.Button("Start a class (instructor)", elem_id="label-class-start")
            leave_btn = gr.Button("Leave (the instructor: end the class)", elem_id="label-class-leave")
        class_counter = gr.Markdown(elem_id="label-class-stats")
    timer = gr.Timer(CLASS_POLL_S, active=False, render=False)
    watchers.add_timer(timer, tab)
    class_out = [code_shown, class_counter, timer]
    timer.tick(class_view, None, class_out, api_visibility="private", show_progress="hidden", queue=False)
    join_btn.click(join_class, code, class_out, api_name="label_class_join").then(
        show, settings, shown, api_visibility="private"
    )
    start_btn.click(
        start_class, [model, prompts, temperature, top_p, max_new_tokens], class_out, api_name="label_class_start"
    ).then(show, settings, shown, api_visibility="private")
    leave_btn.click(leave_class, None, class_out, api_name="label_class_leave").then(
        show, settings, shown, api_visibility="private"
    )

    def refresh():
        return (
            gr.update(choices=model_choices()),
            gr.update(choices=prompt_choices()),
            gr.update(choices=reward_choices()),
        )

    tab.select(refresh, None, [model, prompts, reward], api_visibility="private")
    tab.select(show, settings, shown, api_visibility="private")  # the tab opens ready: the first pair shows
    tab.select(class_view, None, class_out, api_visibility="private")
