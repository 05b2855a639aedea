"""DPO on the tiny model: it learns an easy preference, logs DPO's metrics, saves a loadable adapter, evaluates."""

from __future__ import annotations

import json

import pytest
from test_reward import easy_pairs  # chosen says "great", rejected "awful"

from rlhf_playground.cli import main
from rlhf_playground.data.prompts import load_prompts, split_prompts
from rlhf_playground.errors import UserError
from rlhf_playground.jobs import create_run
from rlhf_playground.stages import dpo

TOPICS = ["tea", "cats", "rain", "books", "trains", "music", "parks", "bread", "snow", "boats"]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def small(tiny_model_dir, dataset, **overrides):
    settings = dict(
        model=str(tiny_model_dir),
        dataset=dataset,
        steps=6,
        batch_size=4,
        learning_rate=1e-3,
        max_new_tokens=6,
        eval_prompts=4,
        max_length=64,
    )
    return dpo.DPOStageConfig(**{**settings, **overrides})


@pytest.mark.parametrize("load_in_4bit", [False, True], ids=["lora", "qlora"])
def test_dpo_learns_the_preference_and_saves_an_adapter(load_in_4bit, tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config = small(tiny_model_dir, easy_pairs(tmp_path / "pairs.jsonl", n=40), load_in_4bit=load_in_4bit)
    config.validate()
    run = create_run("dpo", config)
    outcome = dpo.run(config, run)

    rows = [m for m in run.metrics() if "loss" in m]
    assert [m["step"] for m in rows] == list(range(1, 7))
    assert rows[-1]["loss"] < rows[0]["loss"]  # 0.693 (= log 2) at the start: policy == reference
    assert rows[-1]["rewards/accuracies"] == 1.0 and rows[-1]["rewards/margins"] > 0
    evaluation = json.loads((run.artifacts / "eval.json").read_text())
    assert set(evaluation) == {"held_out_prompts", "reward_before", "reward_after", "final_kl", "reward"}
    assert evaluation["held_out_prompts"] == 4 and evaluation["reward"] == "lexicon"
    assert not (run.path / "trainer").exists()
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), outcome["adapter"])
    assert any("lora_" in name for name, _ in model.named_parameters())


def test_held_out_prompts_come_from_the_eval_dataset_as_ppo_splits_it(tiny_model_dir, tmp_path):
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"Tell me about {t}."} for t in TOPICS])
    config = small(tiny_model_dir, easy_pairs(tmp_path / "pairs.jsonl", n=40), eval_dataset=prompts, eval_prompts=3)
    train, held_out, _ = config.split()
    assert held_out == split_prompts(load_prompts(prompts), 3, config.seed)[1]
    assert len(train) == 40  # every pair trains when the prompts come from elsewhere
    train, held_out, _ = small(tiny_model_dir, config.dataset, eval_prompts=3).split()
    assert len(train) == 37 and all(isinstance(p, list) for p in held_out)  # chat prompts of held-out pairs


def test_pairs_without_a_prompt_are_dropped_and_counted(tiny_model_dir, tmp_path):
    rows = [
        {"chosen": "plain good text", "rejected": "plain bad text"},
        {"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."},
    ]
    train, _, dropped = small(tiny_model_dir, write_jsonl(tmp_path / "p.jsonl", rows), eval_prompts=0).split()
    assert train == [("Hi", "Hello!", "Go away.")] and dropped == {"no prompt": 1}


@pytest.mark.parametrize(
    "rows,message",
    [
        ([{"prompt": "Tell me a story."}], "DPO learns from preference pairs"),
        ([{"chosen": "plain good text", "rejected": "plain bad text"}], "no usable pairs with a prompt"),
    ],
)
def test_wrong_kind_of_dataset_is_refused(rows, message, tiny_model_dir, tmp_path):
    with pytest.raises(UserError, match=message):
        small(tiny_model_dir, write_jsonl(tmp_path / "d.jsonl", rows)).validate()


@pytest.mark.parametrize(
    "change,message",
    [
        ({"beta": 0.0}, "beta must be above 0"),
        ({"loss_type": "kto"}, "loss_type must be one of"),
        ({"eval_reward": "happiness"}, "Unknown reward"),
        ({"steps": 0}, "steps must be at least 1"),
    ],
)
def test_impossible_settings_are_refused(change, message, tiny_model_dir, tmp_path):
    config = small(tiny_model_dir, easy_pairs(tmp_path / "pairs.jsonl", n=40), **change)
    with pytest.raises(UserError, match=message):
        config.validate()


def test_cli_refuses_a_prompt_dataset(tiny_model_dir, tmp_path, capsys):
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": "Hi"}])
    assert main(["dpo", "--model", str(tiny_model_dir), "--dataset", prompts]) == 2
    assert "error: " in capsys.readouterr().err


def test_no_dataset_is_refused(tiny_model_dir):
    with pytest.raises(UserError, match="Choose a preference dataset"):
        small(tiny_model_dir, "").validate()
