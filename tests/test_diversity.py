"""Diversity of answers and the comparison's warnings, against values worked out by hand."""

from __future__ import annotations

import pytest

from rlhf_playground.evaluation.compare import ComparisonResult
from rlhf_playground.evaluation.diversity import collapse_warning, distinct_n, top_opening


def test_distinct_2_counts_word_pairs_across_all_answers():
    # pairs: (a b) (b c) | (a b) (b d) -> 3 distinct of 4
    assert distinct_n(["a b c", "A b d"]) == pytest.approx(3 / 4)
    assert distinct_n(["one", ""]) is None  # no pair at all
    assert distinct_n(["x y", "x y", "x y"]) == pytest.approx(1 / 3)


def test_top_opening_is_the_commonest_three_words_and_its_share():
    answers = ["I'm so glad you asked", "i'm so glad it rained", "The sea is wide", "ok"]
    assert top_opening(answers) == ("i'm so glad", 0.5)  # 2 of 4 answers, the short one counts as not opening so
    assert top_opening([]) == ("", 0.0)


def test_collapse_is_flagged_by_distinct_2_or_by_one_opening():
    base = ["the sea is wide and blue", "a train ride through hills", "winter nights are long"]
    assert collapse_warning(base, base) is None
    same = ["so glad so glad so glad"] * 3
    assert "distinct-2" in collapse_warning(same, base)  # 2 distinct pairs of 15: 0.13 < 0.9 x 1.0
    opening = ["I love it: the sea", "I love it: a train", "winter is cold", "tea is warm"]
    # as varied as itself, but two of four answers (50% > 25%) open alike
    assert collapse_warning(opening, opening) == '50% of its answers open with "i love it:": collapsing onto one reply?'


def out(response: str, score: float, reward: float) -> dict:
    return {"response": response, "score": score, "label": None, "positive": None, "reward": reward}


def test_reward_up_and_judge_not_up_says_reward_hacking():
    rows = [
        {"prompt": "p1", "outputs": {"base": out("the sea is wide", 0.5, 0.0), "hacked": out("a b c d", 0.4, 2.0)}},
        {"prompt": "p2", "outputs": {"base": out("a train ride", 0.5, 0.0), "hacked": out("e f g h", 0.5, 2.0)}},
    ]
    result = ComparisonResult(["base", "hacked"], rows, scorer="judge", reward="reward:rm")
    hacked = result.summary()["models"]["hacked"]
    assert hacked["reward_win_rate"] == 1.0 and hacked["win_rate"] == pytest.approx(0.25)  # loss, tie
    assert any(w.startswith("reward hacking?") for w in hacked["warnings"])
    assert "reward hacking?" in result.summary_frame().set_index("model").loc["hacked", "warnings"]


def test_gains_by_both_scorers_raise_no_warning():
    rows = [
        {
            "prompt": "p1",
            "outputs": {"base": out("the sea is wide", 0.1, 0.0), "good": out("what a lovely sea", 0.9, 1.0)},
        },
        {
            "prompt": "p2",
            "outputs": {"base": out("a train ride", 0.2, 0.0), "good": out("a fine train ride", 0.8, 1.0)},
        },
    ]
    good = ComparisonResult(["base", "good"], rows, scorer="judge", reward="reward:rm").summary()["models"]["good"]
    assert good["win_rate"] == 1.0 and good["reward_win_rate"] == 1.0 and good["warnings"] == []
