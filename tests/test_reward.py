"""Reward model stage on the tiny model: it learns an easy preference, drops bad pairs, saves a usable scorer."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest

from rlhf_playground.data.pairs import describe_dropped, read_pairs
from rlhf_playground.errors import UserError
from rlhf_playground.jobs import create_run
from rlhf_playground.rewards.scorers import make_scorer
from rlhf_playground.stages import reward


def easy_pairs(path, n=120, extra=()):
    """chosen always says 'great', rejected 'awful': a set a working reward model must separate."""
    r = random.Random(0)
    topics = ["tea", "cats", "rain", "books", "trains", "music", "parks", "bread", "snow", "boats"]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            t = r.choice(topics)
            q = [{"role": "user", "content": f"What do you think of {t}?"}]
            f.write(
                json.dumps(
                    {
                        "chosen": q + [{"role": "assistant", "content": f"{t} are great, really great."}],
                        "rejected": q + [{"role": "assistant", "content": f"{t} are awful, truly."}],
                    }
                )
                + "\n"
            )
        for row in extra:
            f.write(json.dumps(row) + "\n")
    return str(path)


@pytest.fixture
def trained(tiny_model_dir, tmp_path):
    bad = [
        {"prompt": "Hi", "chosen": "same", "rejected": "same"},
        {"prompt": "Hi", "chosen": "", "rejected": "no"},
        {"prompt": "Hi " * 300, "chosen": "long", "rejected": "longer"},
    ]
    config = reward.RewardStageConfig(
        model=str(tiny_model_dir),
        dataset=easy_pairs(tmp_path / "p.jsonl", extra=bad),
        max_steps=30,
        learning_rate=3e-3,
        eval_steps=10,
        max_length=128,
    )
    config.validate()
    run = create_run("reward", config)
    outcome = reward.run(config, run)
    return run, outcome


def test_training_lowers_the_loss_and_beats_chance(trained):
    run, outcome = trained
    losses = [m["loss"] for m in run.metrics() if "loss" in m]
    assert losses[-1] < losses[0] * 0.5
    assert any("eval_accuracy" in m for m in run.metrics())  # evaluated during training, for the live plot
    report = json.loads((run.artifacts / "eval.json").read_text())
    assert report["accuracy"] >= 0.8 and report["mean_margin"] > 0
    assert report["dropped"] == {"chosen equals rejected": 1, "empty response": 1, "longer than max_length 128": 1}
    assert len(report["margins"]) == report["n_eval"] == 12
    assert run.status()["dropped"] == report["dropped"]
    assert not (run.path / "trainer").exists()


def test_the_score_head_is_trained_and_saved_with_the_adapter(trained):
    from safetensors import safe_open

    run, _ = trained
    with safe_open(run.artifacts / "adapter" / "adapter_model.safetensors", "pt") as f:
        assert any("score" in key for key in f.keys())


def test_saved_model_scores_and_prefers_like_training(trained):
    run, _ = trained
    scorer = make_scorer(f"reward:{run.path}")
    verdict = reward.prefer(
        scorer, "What do you think of snow?", "snow are great, really great.", "snow are awful, truly."
    )
    assert verdict["preferred"] == "A" and verdict["probability_a"] > 0.8
    assert verdict["margin"] == pytest.approx(verdict["score_a"] - verdict["score_b"])


def test_dataset_without_pairs_is_refused(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text('{"prompt": "hello"}\n', encoding="utf-8")
    with pytest.raises(UserError, match="no chosen/rejected"):
        reward.RewardStageConfig(dataset=str(path)).validate()
    with pytest.raises(UserError, match="learning_rate"):
        reward.RewardStageConfig(dataset=str(path), learning_rate=0).validate()


def test_qlora_trains_the_score_head_on_cpu(tiny_model_dir, tmp_path):
    config = reward.RewardStageConfig(
        model=str(tiny_model_dir), dataset=easy_pairs(tmp_path / "p.jsonl", n=20), max_steps=2, load_in_4bit=True
    )
    run = create_run("reward", config)
    reward.run(config, run)
    assert json.loads((run.artifacts / "eval.json").read_text())["n_eval"] == 2


def test_transcripts_are_split_at_the_last_reply_and_empty_replies_dropped(tmp_path):
    path = tmp_path / "transcripts.jsonl"
    rows = [
        {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go away"},
        {"chosen": "\n\nHuman: hi\n\nAssistant: hello there", "rejected": "\n\nHuman: hi\n\nAssistant:"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    pairs, dropped = read_pairs(str(path))
    assert pairs == [("\n\nHuman: hi\n\nAssistant:", " hello", " go away")]
    assert dropped == {"empty response": 1}


def test_validate_counts_what_max_length_leaves_out(tiny_model_dir, tmp_path):
    config = reward.RewardStageConfig(
        model=str(tiny_model_dir), dataset=easy_pairs(tmp_path / "p.jsonl", n=4), max_length=16
    )
    with pytest.raises(UserError, match=r"0 usable pair\(s\) \(dropped 4 pairs: longer than max_length 16 \(4\)\)"):
        config.validate()
    found = Counter({"empty response": 1, "chosen equals rejected": 2})
    assert describe_dropped(found) == "dropped 3 pairs: chosen equals rejected (2), empty response (1)"


@pytest.mark.slow
def test_cli_trains_a_reward_model(tiny_model_dir, tmp_path):
    data = easy_pairs(tmp_path / "p.jsonl", n=20)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlhf_playground",
            "reward",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            data,
            "--max-steps",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "eval accuracy" in done.stdout
