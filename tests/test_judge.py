"""The judge: fitted once, offline, on the bundled reviews, on the bundled base model's embeddings; a scorer like
any other, sharing nothing with the MiniLM reward models."""

from __future__ import annotations

import pytest

from rlhf_playground import hosting, models, settings, workspace
from rlhf_playground.errors import UserError
from rlhf_playground.models import minilm
from rlhf_playground.rewards import judge
from rlhf_playground.rewards.scorers import make_scorer
from rlhf_playground.sharing import hub


@pytest.mark.slow
def test_the_judge_is_fitted_once_and_tells_praise_from_fact_from_complaint(tmp_path, monkeypatch):
    encoder = judge.encoder_path()  # the converted bundled model, in the usual cache
    assert encoder == models.resolve(models.DEFAULT_MODEL).path
    assert encoder != str(minilm.encoder_dir())  # not the reward models' encoder
    monkeypatch.setattr(judge, "encoder_path", lambda: encoder)
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))  # a fresh judge
    folder = judge.judge_dir()
    found = judge.report()
    assert found["n_held_out"] == 36 and found["n_train"] == 324 and "SmolLM2" in found["encoder"]
    assert found["held_out_accuracy"] >= 0.8, found  # measured on reviews it never saw

    def no_second_fit(*args):
        raise AssertionError("fitted twice")

    monkeypatch.setattr(judge, "fit", no_second_fit)
    assert judge.judge_dir() == folder
    scorer = make_scorer("judge")
    assert scorer.name == "judge"
    # sentences in none of the reviews' templates
    praise, fact, complaint = scorer.score(
        ["", "", ""],
        ["I loved every minute, what a wonderful surprise.", "The train leaves at nine.", "Awful. I hated it."],
    )
    assert praise > 0.5 > complaint and praise > fact > complaint


def test_without_the_bundled_model_the_judge_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))  # nothing converted here
    monkeypatch.setattr(models.bundled, "bundle_installed", lambda: False)
    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(UserError, match="requirements-offline.txt"):
        settings.check_reward_source("judge")  # said at Start, before any job
    assert list(tmp_path.iterdir()) == []  # nothing half-built


def test_without_the_encoder_package_the_reward_encoder_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == workspace.MINILM_PACKAGE else real(name, *a)
    )
    monkeypatch.setattr(minilm.hub, "hub_reachable", lambda: False)
    with pytest.raises(UserError, match="requirements-offline.txt"):
        minilm.encoder_dir()


def test_without_the_package_the_reward_encoder_comes_from_a_reachable_hub(monkeypatch):
    import importlib.util

    import huggingface_hub

    bundled = minilm.encoder_dir()
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == workspace.MINILM_PACKAGE else real(name, *a)
    )
    monkeypatch.setattr(minilm.hub, "hub_reachable", lambda: True)
    asked = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, **kw: asked.append((repo, kw)) or bundled)
    assert minilm.encoder_dir() == bundled
    assert asked == [(minilm.HUB_ENCODER, {"allow_patterns": minilm.HUB_ENCODER_FILES})]
    assert {p.name for p in bundled.iterdir()} >= set(minilm.HUB_ENCODER_FILES)  # the files the model needs


def test_judge_is_a_known_reward_kind():
    settings.check_reward("judge")
    with pytest.raises(UserError, match="'judge'"):
        settings.check_reward("judgement")


def test_a_shared_app_lets_its_reward_models_start_from_the_bundled_encoder(monkeypatch, tmp_path):
    """Read-only and the same for everyone: the demo's reward step gives its folder as the model."""
    monkeypatch.setenv("RLHF_HOSTED", "1")
    hosting.check_local_path(minilm.encoder_dir())
    with pytest.raises(UserError, match="shared, hosted app"):
        hosting.check_local_path(minilm.encoder_dir().parent.parent)  # the package around it is not
