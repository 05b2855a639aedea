"""How much an answer is about its prompt: the cosine of their sentence embeddings.

A policy can please a sentiment reward with warm words about nothing in particular. Relevance catches
that: the cosine similarity of the prompt's and the answer's sentence embeddings from the judge's encoder
(the frozen base model: the demo's reward models use MiniLM, so the reward never saw this measure), each
embedding first centred on the mean of all the texts compared, because a causal LM's raw embeddings all
point one way and would make every pair look alike. A tuned model whose mean falls under ``DRIFT`` of the
base's is flagged.
"""

from __future__ import annotations

DRIFT = 0.9  # a tuned model keeps at least this share of the base's mean relevance


def relevance(prompts: list[str], answers: dict[str, list[str]]) -> dict[str, list[float]]:
    """Per model, each answer's relevance to its prompt (the prompts are shared by every model's answers)."""
    import torch

    from .judge import base_encoder

    encoder = base_encoder()
    texts = list(prompts) + [a or " " for name in answers for a in answers[name]]
    embedded = encoder(texts)
    centred = torch.nn.functional.normalize(embedded - embedded.mean(0), dim=-1)
    p = centred[: len(prompts)]
    found, start = {}, len(prompts)
    for name, texts_of in answers.items():
        a = centred[start : start + len(texts_of)]
        found[name] = (p * a).sum(-1).tolist()
        start += len(texts_of)
    return found


def drift_warning(tuned: float | None, base: float | None) -> str | None:
    """A sentence when a tuned model's mean relevance is under ``DRIFT`` of the base's, else None."""
    if tuned is None or base is None or base <= 0 or tuned >= DRIFT * base:
        return None
    return f"less about its prompts than the base (relevance {tuned:.2f} vs {base:.2f}): drifting off topic?"
