"""Compare and Explore on the tiny model.

The tuned model is a LoRA adapter trained here, in a few dozen steps, to answer
" fine" whatever it is asked: VADER rates "fine" as positive, so the tuned model
must beat the random base on the lexicon score, and its greedy answers are known.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from rlhf_playground.errors import UserError
from rlhf_playground.evaluation.compare import (
    CompareConfig,
    ComparisonResult,
    compare,
    headline,
    load_result,
    resolve_tuned,
    score_distribution,
    summary_markdown,
    win_interval,
)
from rlhf_playground.evaluation.explore import analyse_sentiment, generate_text
from rlhf_playground.models.generation import encode_prompt

PROMPTS = ["Hi", "What is the capital of France and why is it so famous?", "Tell me about the weather today"]
WORD = " fine"  # what the fine_adapter fixture (conftest.py) makes the tiny model say


def config(tiny_model_dir, **overrides) -> CompareConfig:
    values = dict(base=str(tiny_model_dir), prompts_text="\n".join(PROMPTS), max_new_tokens=6, batch_size=8)
    return CompareConfig(**{**values, **overrides})


def test_tuned_answers_differ_from_base_and_win(tiny_model_dir, fine_adapter):
    result = compare(config(tiny_model_dir, tuned=str(fine_adapter)))
    tuned = fine_adapter.name
    assert result.models == ["base", tuned]
    frame = result.to_frame()
    assert list(frame["prompt"]) == PROMPTS
    for row in result.rows:
        assert row["outputs"][tuned]["response"].split() == ["fine"] * 6
        assert row["outputs"]["base"]["response"] != row["outputs"][tuned]["response"]
        assert row["outputs"][tuned]["label"] == "positive"
    summary = result.summary()
    assert summary["models"][tuned]["mean_score"] > summary["models"]["base"]["mean_score"]
    assert summary["models"][tuned]["win_rate"] == 1.0 and summary["models"]["base"]["win_rate"] is None
    chart = score_distribution(result)
    assert list(chart.columns) == ["model", "score"] and len(chart) == 2 * len(PROMPTS)


def test_batched_greedy_matches_one_prompt_at_a_time(tiny_model_dir):
    """Left padding must not change greedy answers: each equals generate() on the prompt alone."""
    from rlhf_playground.models import load_causal_lm

    result = compare(config(tiny_model_dir, max_new_tokens=8))
    model, tokenizer = load_causal_lm(str(tiny_model_dir))
    for prompt, row in zip(PROMPTS, result.rows):
        ids = torch.tensor([encode_prompt(tokenizer, prompt)])
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False)
        alone = tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()
        assert row["outputs"]["base"]["response"] == alone


def test_sampling_is_seeded(tiny_model_dir):
    settings = dict(temperature=1.0, top_p=0.9, seed=3, max_new_tokens=5)
    first = compare(config(tiny_model_dir, **settings))
    again = compare(config(tiny_model_dir, **settings))
    assert [r["outputs"]["base"]["response"] for r in first.rows] == [
        r["outputs"]["base"]["response"] for r in again.rows
    ]


def test_summary_matches_hand_computation():
    def row(base: float, a: float, b: float) -> dict:
        out = lambda s: {"response": "x", "score": s, "label": None, "positive": None, "reward": s * 10}
        return {"prompt": "p", "outputs": {"base": out(base), "a": out(a), "b": out(b)}}

    result = ComparisonResult(
        ["base", "a", "b"], [row(0.0, 0.5, 0.0), row(0.2, 0.2, -1.0), row(0.4, 0.1, 1.0)], reward="reward:x"
    )
    models = result.summary()["models"]
    assert models["base"]["mean_score"] == pytest.approx(0.2)
    assert models["a"]["mean_score"] == pytest.approx(0.8 / 3)
    assert models["b"]["mean_reward"] == pytest.approx(0.0)
    assert models["a"]["win_rate"] == pytest.approx((1 + 0.5 + 0) / 3)  # win, tie (half), loss
    assert models["b"]["win_rate"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert list(result.summary_frame()["model"]) == ["base", "a", "b"]
    assert "a: reward" in result.to_frame().columns


def test_a_win_rates_interval_by_hand():
    # 8 of 16: p = 0.5, z^2 = 3.8416; centre (0.5 + z^2/32) / (1 + z^2/16) = 0.5,
    # half-width 1.96 * sqrt(0.25/16 + z^2/1024) / (1 + z^2/16) = 0.2200
    low, high = win_interval(8, 16)
    assert low == pytest.approx(0.2800, abs=1e-4) and high == pytest.approx(0.7200, abs=1e-4)
    low, high = win_interval(16, 16)  # all won: the interval still reaches down, to 0.8064
    assert low == pytest.approx(0.8064, abs=1e-4) and high == 1.0


def several(base: tuple, tuned: tuple) -> dict:
    """One prompt's outputs scored by a judge, VADER and a reward: ``(judge, lexicon, reward)`` per model."""

    def out(judge: float, lexicon: float, reward: float) -> dict:
        scores = {"judge": judge, "lexicon": lexicon}
        return {"response": "x", "score": judge, "label": None, "positive": None, "scores": scores, "reward": reward}

    return {"prompt": "p", "outputs": {"base": out(*base), "PPO": out(*tuned)}}


def test_every_scorer_gets_its_mean_win_rate_and_interval_and_hacking_needs_them_all_to_miss(tmp_path):
    hacked = ComparisonResult(
        ["base", "PPO"],
        [several((0.6, 0.2, 1.0), (0.5, 0.1, 3.0)) for _ in range(4)],
        scorer="judge",
        reward="reward:r",
        scorers=["judge", "lexicon"],
    )
    by = hacked.summary()["models"]["PPO"]["by"]
    assert by["judge"]["mean"] == pytest.approx(0.5) and by["lexicon"]["win_rate"] == 0.0
    assert by["reward:r"]["win_rate"] == 1.0 and by["reward:r"]["interval"] == pytest.approx(list(win_interval(4, 4)))
    (warning,) = hacked.summary()["models"]["PPO"]["warnings"]
    assert warning.startswith("reward hacking?") and "none of judge, lexicon saw it win" in warning
    confirmed = ComparisonResult(  # VADER sees the gain the reward saw: no hacking, though the judge doesn't
        ["base", "PPO"],
        [several((0.6, 0.2, 1.0), (0.5, 0.4, 3.0)) for _ in range(4)],
        scorer="judge",
        reward="reward:r",
        scorers=["judge", "lexicon"],
    )
    assert confirmed.summary()["models"]["PPO"]["warnings"] == []
    text = summary_markdown(confirmed)
    assert "`lexicon` +0.400, wins **100%** (51%–100%)" in text and "the reward `reward:r` +3.000" in text
    assert headline(confirmed) == (
        "Against the base on 4 prompts, PPO moved judge +0.60 → +0.50 (wins 0%), lexicon +0.20 → +0.40 "
        "(wins 100%), its reward (reward:r) +1.00 → +3.00 (wins 100%)."
    )
    frame = confirmed.summary_frame().set_index("model")
    assert frame.loc["PPO", "lexicon: 95% interval"] == "51%–100%"
    again = load_result(confirmed.to_json(tmp_path / "r.json"))
    assert again.scorers == ["judge", "lexicon"] and again.summary() == confirmed.summary()


def test_two_tuned_models_can_be_set_head_to_head():
    result = ComparisonResult(["base", "SFT", "PPO"], [], scorer="judge", scorers=["judge"])
    result.rows = [
        {"prompt": str(i), "outputs": {name: {"scores": {"judge": score}} for name, score in zip(result.models, row)}}
        for i, row in enumerate([(0.1, 0.5, 0.6), (0.1, 0.5, 0.4), (0.1, 0.5, 0.5), (0.9, 0.2, 0.3)])
    ]
    assert result.wins("PPO", "judge", against="SFT") == (2.5, 4)  # two wins and a tie
    assert result.wins("PPO", "judge") == (3.0, 4)  # against the base


def test_relevance_tells_an_answer_about_its_prompt_from_one_about_nothing():
    from rlhf_playground.evaluation.relevance import drift_warning, relevance

    prompts = ["Describe a picnic in the hills.", "Write a review of a folding bicycle.", "How was the ferry trip?"]
    about = [
        "We ate sandwiches on a blanket on the hill.",
        "The bicycle folds small and rides well.",
        "The boat crossed the harbour calmly.",
    ]  # noqa: E501
    nothing = ["I'm so glad you asked! It's wonderful."] * 3
    found = relevance(prompts, {"about": about, "nothing": nothing, "swapped": about[1:] + about[:1]})
    # hill of picnic·hill; bicycle of folding·bicycle ("folds" isn't "folding"); a boat in a harbour uses neither
    # ferry nor trip: word overlap misses synonyms, and reads a drop only when a model stops naming the subject
    assert found["about"] == [0.5, 0.5, 0.0]
    assert found["nothing"] == [0.0, 0.0, 0.0] and found["swapped"] == [0.0, 0.0, 0.0]
    assert relevance(["Write two sentences."], {"m": ["Two."]}) == {"m": [None]}  # nothing asked about
    mean = {name: sum(values) / 3 for name, values in found.items()}
    assert drift_warning(mean["nothing"], mean["about"]).startswith("less about its prompts than the base")
    assert drift_warning(0.19, 0.2) is None and drift_warning(0.1, None) is None


def test_tuned_models_can_be_named(tiny_model_dir, fine_adapter):
    (entry,) = resolve_tuned(f"SFT={fine_adapter}", str(tiny_model_dir))
    assert entry.name == "SFT" and entry.ref == str(fine_adapter)


def test_adapter_of_another_base_is_refused(tmp_path, tiny_model_dir, fine_adapter):
    from rlhf_playground.models.tiny import make_tiny_model

    other = make_tiny_model(tmp_path / "other", seed=1)
    with pytest.raises(UserError, match=f"was trained on {tiny_model_dir}, not on {other}"):
        resolve_tuned(str(fine_adapter), str(other))


def test_bad_settings_are_refused(tiny_model_dir):
    with pytest.raises(UserError, match="Type some prompts"):
        compare(config(tiny_model_dir, prompts_text="  \n "))
    with pytest.raises(UserError, match="top_p"):
        config(tiny_model_dir, top_p=0).validate()
    with pytest.raises(UserError, match="text-classification"):
        compare(config(tiny_model_dir, scorer=f"classifier:{tiny_model_dir}"))


def test_cli_compares_a_run_and_writes_csv_and_json(tmp_path, tiny_model_dir, fine_adapter, capsys):
    from rlhf_playground.cli import main
    from rlhf_playground.evaluation.compare import load_result
    from rlhf_playground.jobs.runs import create_run, list_runs
    from rlhf_playground.stages.sft import SFTStageConfig

    run = create_run("sft", SFTStageConfig(model=str(tiny_model_dir), dataset="prompts"))
    run.update_status(state="finished")
    shutil.copytree(fine_adapter, run.artifacts / "adapter")
    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS))
    out = tmp_path / "results" / "cmp"
    code = main(
        [
            "compare",
            "--base",
            str(tiny_model_dir),
            "--tuned",
            run.id,
            "--dataset",
            str(data),
            "--n-prompts",
            "2",
            "--max-new-tokens",
            "4",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    summary = json.loads(printed[-1])
    assert summary["n_prompts"] == 2 and set(summary["models"]) == {"base", run.id}
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["summary"] == summary
    job = next(r for r in list_runs("compare"))
    assert job["state"] == "finished" and job["step"] == job["total_steps"] == 3
    assert load_result(Path(job["path"]) / "artifacts" / "results.json").summary() == summary
    assert [row["prompt"] for row in saved["rows"]] == PROMPTS[:2]
    assert out.with_suffix(".csv").read_text().startswith("prompt,base: response")


def test_explore_helpers(tiny_model_dir, fine_adapter):
    greedy = generate_text(str(fine_adapter), "The weather", max_new_tokens=3, do_sample=False)
    assert greedy == [WORD * 3]
    samples = generate_text(str(tiny_model_dir), "The weather", max_new_tokens=5, num_return_sequences=3, seed=1)
    assert len(samples) == 3 and samples == generate_text(
        str(tiny_model_dir), "The weather", max_new_tokens=5, num_return_sequences=3, seed=1
    )
    assert analyse_sentiment("I love this wonderful day")["label"] == "positive"
    with pytest.raises(UserError):
        generate_text(str(tiny_model_dir), "  ")


def test_a_ppo_adapter_trained_on_an_sft_adapter_loads_on_its_own(tmp_path, tiny_model_dir, fine_adapter):
    """PPO on an SFT run trains on base + merged SFT weights: it can't share the base, load_policy loads it."""
    ppo = tmp_path / "ppo-adapter"
    shutil.copytree(fine_adapter, ppo)
    (ppo / "policy.json").write_text(json.dumps({"base_model": str(tiny_model_dir), "sft_adapter": str(fine_adapter)}))
    [entry] = resolve_tuned(str(ppo), str(tiny_model_dir))
    assert entry.on_sft and not entry.shares_base
    result = compare(config(tiny_model_dir, tuned=str(ppo)))
    assert all(row["outputs"][entry.name]["response"].startswith(WORD.strip()) for row in result.rows)
