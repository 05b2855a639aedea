"""Explore tab: the course's first steps — generate text with a model, and read the sentiment of any text."""

from __future__ import annotations

import json

import gradio as gr

from ..errors import UserError
from ..evaluation.explore import analyse_sentiment, generate_text
from .choices import SCORERS, tuned_choices
from .common import model_work, problem
from .page_load import fill_when_built

INTRO = """
### Try models: generation and sentiment
The two `transformers` pipelines the RLHF story starts from. **Text generation** continues a prompt with a
causal language model — the bundled SmolLM2 offline, a Hub model such as `lvwerra/gpt2-imdb-pos-v2`
(GPT-2 tuned with PPO to write positive movie reviews) when the Hub is reachable, or one of your runs.
**Sentiment analysis** labels a text — with the VADER lexicon offline, or a classifier such as
`lvwerra/distilbert-imdb`, the reward model of that PPO run. Each generated answer is scored too.
"""

MODELS = ["default", "lvwerra/gpt2-imdb-pos-v2", "gpt2"]


def model_choices() -> list[tuple[str, str]]:
    return [(m, m) for m in MODELS] + tuned_choices()


def _model_ref(choice: str) -> str:
    """A run id from the menu means its adapter folder; anything else is a model reference as typed."""
    from ..workspace import saved_adapter

    adapter = saved_adapter(choice)
    return str(adapter) if adapter is not None else choice


def pipeline_code(
    model: str,
    text: str,
    max_new_tokens,
    temperature,
    top_k,
    top_p,
    do_sample,
    num_return_sequences,
    use_chat_template,
    scorer: str,
) -> str:
    """The same two steps with plain ``transformers`` pipelines, as a workshop attendee would type them."""
    classifier = scorer.split(":", 1)[1].rsplit(":", 1)[0] if scorer.startswith("classifier:") else None
    prompt = '[{"role": "user", "content": prompt}]' if use_chat_template else "prompt"
    text = json.dumps(text or "", ensure_ascii=False)
    sampling = (
        f"do_sample=True, temperature={temperature}, top_k={int(top_k or 0)}, top_p={top_p}"
        if do_sample
        else "do_sample=False"
    )
    lines = [
        "from transformers import pipeline",
        "",
        f'generator = pipeline("text-generation", model="{_model_ref(model)}")',
        f"prompt = {text}",
        f"outputs = generator({prompt}, max_new_tokens={int(max_new_tokens or 0)}, {sampling},",
        f"                    num_return_sequences={int(num_return_sequences or 1)})",
    ]
    if classifier:
        lines += [
            f'classifier = pipeline("sentiment-analysis", model="{classifier}")',
            'print(classifier([o["generated_text"] for o in outputs]))',
        ]
    else:
        lines += [
            "# the lexicon scorer is VADER: pip install vaderSentiment",
            "from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer",
            "print([SentimentIntensityAnalyzer().polarity_scores(o['generated_text']) for o in outputs])",
        ]
    return "\n".join(lines)


def generate(
    model,
    prompt,
    max_new_tokens,
    temperature,
    top_k,
    top_p,
    do_sample,
    num_return_sequences,
    seed,
    use_chat_template,
    scorer,
):
    """The continuations of ``prompt``, each with its sentiment, as a table (or a message saying what's wrong)."""
    import pandas as pd

    try:
        texts = generate_text(
            _model_ref(model),
            prompt,
            max_new_tokens=int(max_new_tokens),
            temperature=temperature,
            top_k=int(top_k),
            top_p=top_p,
            do_sample=do_sample,
            seed=int(seed),
            num_return_sequences=int(num_return_sequences),
            use_chat_template=use_chat_template,
        )
        moods = [analyse_sentiment(text, scorer) if text.strip() else None for text in texts]
    except UserError as exc:
        return problem(exc), None
    rows = [[text, m["label"] if m else "", round(m["score"], 3) if m else None] for text, m in zip(texts, moods)]
    return "", pd.DataFrame(rows, columns=["generated text", "sentiment", "score"])


def sentiment(text: str, scorer: str) -> str:
    try:
        result = analyse_sentiment(text, scorer)
    except UserError as exc:
        return problem(exc)
    extra = f" · positive share/probability {result['positive']:.2f}" if result.get("positive") is not None else ""
    return f"**{result['label'] or 'score'}** · score {result['score']:+.3f}{extra}"


def build(tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    with gr.Row():
        model = gr.Dropdown(
            model_choices(),
            value="default",
            label="Model",
            allow_custom_value=True,
            info="'default' (bundled SmolLM2), a Hub name, a folder, or one of your runs",
        )
        scorer = gr.Dropdown(
            SCORERS,
            value="lexicon",
            label="Sentiment scorer",
            allow_custom_value=True,
            info="lexicon (VADER, offline), classifier:<model>[:<label>] or reward:<run>",
        )
    prompt = gr.Textbox(label="Prompt", value="This movie was", lines=2, elem_id="explore-prompt")
    with gr.Accordion("Generation settings", open=False):
        with gr.Row():
            max_new_tokens = gr.Number(value=30, precision=0, label="max new tokens")
            do_sample = gr.Checkbox(value=True, label="sample", info="off = greedy, always the same answer")
            temperature = gr.Number(value=0.7, label="temperature")
            top_k = gr.Number(value=50, precision=0, label="top k", info="0 = no top-k")
            top_p = gr.Number(value=0.95, label="top p")
            num_return_sequences = gr.Number(value=3, precision=0, label="answers")
            seed = gr.Number(value=0, precision=0, label="seed")
            use_chat_template = gr.Checkbox(
                value=False, label="chat template", info="send the prompt as a user message (instruct models)"
            )
    generate_btn = gr.Button("Generate", variant="primary")
    message = gr.Markdown()
    outputs = gr.Dataframe(
        headers=["generated text", "sentiment", "score"],
        label="Generated text",
        interactive=False,
        wrap=True,
        elem_id="explore-outputs",
    )
    settings = [max_new_tokens, temperature, top_k, top_p, do_sample, num_return_sequences]
    generate_btn.click(
        generate,
        [model, prompt, *settings, seed, use_chat_template, scorer],
        [message, outputs],
        api_name="explore_generate",
        **model_work(),
    )
    code = gr.Code(label="The same in Python", language="python", interactive=False)
    code_inputs = [model, prompt, *settings, use_chat_template, scorer]
    for widget in code_inputs:
        widget.change(pipeline_code, code_inputs, code, api_visibility="private")
    fill_when_built(code, pipeline_code, code_inputs)

    gr.Markdown("#### Sentiment of any text")
    text = gr.Textbox(label="Text", value="I loved every minute of it!", lines=2)
    verdict = gr.Markdown()
    gr.Button("Analyse").click(sentiment, [text, scorer], verdict, api_name="explore_sentiment", **model_work())
    tab.select(lambda: gr.update(choices=model_choices()), None, model, api_visibility="private")
