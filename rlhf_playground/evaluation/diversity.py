"""How varied a set of answers is: the first sign that a policy is collapsing onto one reply.

A policy that learns to please its reward with one stock phrase ("I'm so glad...") scores
well and says nothing. Two numbers catch it early, and PPO logs the first per step:

* **distinct-2**: distinct word pairs across all the answers over all word pairs (1: no pair
  repeats anywhere; near 0: the same words again and again);
* **top opening share**: the share of answers that begin with the most common three words
  (when at least two do).
"""

from __future__ import annotations

from collections import Counter

COLLAPSE_DISTINCT = 0.9  # a tuned model keeps at least this share of the base's distinct-2
COLLAPSE_OPENING = 0.25  # and no three-word opening in more than this share of its answers


def words(text: str) -> list[str]:
    return text.lower().split()


def distinct_n(answers: list[str], n: int = 2) -> float | None:
    """Distinct n-grams of words across ``answers`` over all of them; None when there are none."""
    grams = [tuple(ws[i : i + n]) for ws in map(words, answers) for i in range(len(ws) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def top_opening(answers: list[str], n: int = 3) -> tuple[str, float]:
    """The most common ``n``-word opening and the share of ``answers`` that start with it (an opening
    no two answers share is no pattern: ``("", 0.0)``)."""
    openings = Counter(" ".join(words(a)[:n]) for a in answers if len(words(a)) >= n)
    if not openings or openings.most_common(1)[0][1] < 2:
        return "", 0.0
    opening, count = openings.most_common(1)[0]
    return opening, count / len(answers)


def collapse_warning(answers: list[str], base_answers: list[str]) -> str | None:
    """A sentence when ``answers`` are much less varied than ``base_answers`` (see the thresholds), else None."""
    tuned, base = distinct_n(answers), distinct_n(base_answers)
    opening, share = top_opening(answers)
    if tuned is not None and base and tuned < COLLAPSE_DISTINCT * base:
        return f"less varied than the base (distinct-2 {tuned:.2f} vs {base:.2f}): collapsing onto stock phrases?"
    if share > COLLAPSE_OPENING:
        return f'{share:.0%} of its answers open with "{opening}": collapsing onto one reply?'
    return None
