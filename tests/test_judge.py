"""The judge: fitted once, offline, on the bundled reviews; a scorer like any other."""

from __future__ import annotations

import pytest

from rlhf_playground import judge, settings
from rlhf_playground.errors import UserError
from rlhf_playground.scorers import make_scorer


def test_the_judge_is_fitted_once_and_tells_praise_from_fact_from_complaint(tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    folder = judge.judge_dir()
    found = judge.report()
    assert found["n_held_out"] == 36 and found["n_train"] == 324
    assert found["held_out_accuracy"] >= 0.8, found  # measured on reviews it never saw

    def no_second_fit(*args):
        raise AssertionError("fitted twice")

    monkeypatch.setattr(judge, "fit", no_second_fit)
    assert judge.judge_dir() == folder
    scorer = make_scorer("judge")
    assert scorer.name == "judge"
    # sentences in none of the reviews' templates
    praise, complaint = scorer.score(
        ["", ""], ["I loved every minute, what a wonderful surprise.", "Awful. I hated it."]
    )
    assert praise > 0.5 > complaint


def test_without_the_encoder_package_the_judge_says_how_to_install(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == judge.ENCODER_PACKAGE else real(name, *a)
    )
    with pytest.raises(UserError, match="requirements-offline.txt"):
        settings.check_reward_source("judge")  # said at Start, before any job
    with pytest.raises(UserError, match="requirements-offline.txt"):
        make_scorer("judge")
    assert list(tmp_path.iterdir()) == []  # nothing half-built


def test_without_the_package_the_judge_takes_the_same_encoder_from_a_reachable_hub(monkeypatch, tmp_path):
    import importlib.util

    import huggingface_hub

    bundled = judge.encoder_dir()
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == judge.ENCODER_PACKAGE else real(name, *a)
    )
    monkeypatch.setattr(judge.hub, "hub_reachable", lambda: True)
    asked = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, **kw: asked.append((repo, kw)) or bundled)
    assert judge.encoder_dir() == bundled
    assert asked == [(judge.HUB_ENCODER, {"allow_patterns": judge.HUB_ENCODER_FILES})]
    assert {p.name for p in bundled.iterdir()} >= set(judge.HUB_ENCODER_FILES)  # the files the model needs


def test_judge_is_a_known_reward_kind():
    settings.check_reward("judge")
    with pytest.raises(UserError, match="'judge'"):
        settings.check_reward("judgement")
