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

from rlhf_playground.compare import CompareConfig, ComparisonResult, compare, resolve_tuned, score_distribution
from rlhf_playground.errors import UserError
from rlhf_playground.explore import analyse_sentiment, generate_text
from rlhf_playground.generation import encode_prompt

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


def test_adapter_of_another_base_is_refused(tmp_path, tiny_model_dir, fine_adapter):
    from rlhf_playground.tiny import make_tiny_model

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
    from rlhf_playground.compare import load_result
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
