"""How much an answer is about its prompt: the share of the prompt's subject words the answer uses.

A policy can please a sentiment reward with warm words about nothing in particular. Relevance catches that
without any model, so no model the reward shares can agree with it by construction: the prompt's words of
three letters or more, less the words of the request itself ("write", "describe", "your opinion", ...), a
plural read as its singular; an answer's relevance is the share of those it uses. A tuned model whose mean
falls under ``DRIFT`` of the base's is flagged.

The first measure was a cosine of mean-pooled embeddings from the judge's encoder. On the demo's seed 2 it
said PPO drifted (0.22 → 0.15) while each answer where it and this one disagreed was, read by hand, more
about its prompt ("The Museum of Old Trains is ..." where the base wrote about "the Museum of Ancient
History ... the Roman Empire"): it followed the wording's tone, not the topic (``benchmarks/README.md``).
"""

from __future__ import annotations

import re

DRIFT = 0.9  # a tuned model keeps at least this share of the base's mean relevance


def words(text: str) -> set[str]:
    """Lower-case words of three letters or more, each without a final "s" (so "trains" meets "train")."""
    return {w.removesuffix("s") for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


REQUEST_WORDS = words(
    """about and are below can conversation describe describing diary entry few finish five for from give honest
    how human assistant input lines make means one opinion output paragraph please reply review sentence sentences
    share short some tell text that the think thought thoughts this three two use vivid was what with word words
    would write you your"""
)  # the words of a request, not of its subject, read as words() reads an answer's


def subject_words(prompt: str) -> set[str]:
    return words(prompt) - REQUEST_WORDS


def relevance(prompts: list[str], answers: dict[str, list[str]]) -> dict[str, list[float | None]]:
    """Per model, each answer's relevance to its prompt (None for a prompt with no subject word); the prompts
    are shared by every model's answers."""
    subjects = [subject_words(p) for p in prompts]
    return {
        name: [len(s & words(a)) / len(s) if s else None for s, a in zip(subjects, texts)]
        for name, texts in answers.items()
    }


def drift_warning(tuned: float | None, base: float | None) -> str | None:
    """A sentence when a tuned model's mean relevance is under ``DRIFT`` of the base's, else None."""
    if tuned is None or base is None or base <= 0 or tuned >= DRIFT * base:
        return None
    return f"less about its prompts than the base (relevance {tuned:.2f} vs {base:.2f}): drifting off topic?"
