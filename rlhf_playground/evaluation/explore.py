"""Try models (the Explore tab): the course's first pipeline calls, offline.

:func:`generate_text` is ``pipeline("text-generation")`` and :func:`analyse_sentiment`
``pipeline("sentiment-analysis")``; the last few models stay loaded between calls.
"""

from __future__ import annotations

import functools

from ..errors import UserError
from ..hosting import check_cap
from ..models.generation import answer, encode_prompt, sampling_args


@functools.lru_cache(maxsize=2)
def loaded_lm(path: str):
    """``(model, tokenizer)`` from a resolved model folder, the last two kept loaded (Try models, Label)."""
    from ..models import load_causal_lm

    model, tokenizer = load_causal_lm(path)
    model.eval()
    return model, tokenizer


def cached_causal_lm(ref: str):
    """``(model, tokenizer)`` for ``ref``, kept loaded (the last two) so repeated UI calls are quick."""
    from ..models import check_model_size, resolve

    check_model_size(ref)
    return loaded_lm(resolve(ref).path)


def generate_text(
    model_ref: str,
    prompt: str,
    max_new_tokens: int = 40,
    temperature: float = 0.7,
    top_k: int = 50,
    top_p: float = 0.95,
    do_sample: bool = True,
    seed: int = 0,
    num_return_sequences: int = 1,
    use_chat_template: bool = False,
) -> list[str]:
    """Continuations of ``prompt`` (the new text only), as ``pipeline("text-generation")`` gives them.

    Without the chat template the model simply continues the text; with it (and a tokenizer
    that has one) the prompt is a user's message and the result the assistant's answer.
    """
    if not (prompt or "").strip():
        raise UserError("Type a prompt first.")
    if not 1 <= max_new_tokens <= 2048:
        raise UserError(f"max_new_tokens must be 1 to 2048 (got {max_new_tokens}).")
    if not 1 <= num_return_sequences <= 16:
        raise UserError(f"num_return_sequences must be 1 to 16 (got {num_return_sequences}).")
    check_cap("max_new_tokens", max_new_tokens)  # it runs in the server process: the host's cap applies
    if do_sample and (temperature <= 0 or not 0 < top_p <= 1 or top_k < 0):
        raise UserError("Sampling needs temperature > 0, top_p in (0, 1] and top_k >= 0 (0 = no top-k).")
    model, tokenizer = cached_causal_lm(model_ref)
    ids = encode_prompt(tokenizer, prompt, chat=use_chat_template)
    sampling = sampling_args(temperature if do_sample else 0, top_p, top_k)
    return answer(
        model,
        tokenizer,
        [ids] * num_return_sequences,
        max_new_tokens,
        num_return_sequences,
        sampling,
        seed=seed,
        strip=use_chat_template,
    )


def analyse_sentiment(text: str, scorer_spec: str = "lexicon") -> dict:
    """``{"label", "score", "positive"}`` for one text, like ``pipeline("sentiment-analysis")``."""
    from ..rewards.scorers import cached_scorer

    if not (text or "").strip():
        raise UserError("Type a text to analyse.")
    return cached_scorer(scorer_spec).describe([""], [text])[0]
