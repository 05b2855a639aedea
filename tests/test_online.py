"""GRPO and RLOO on the tiny model: each trains, logs rewards, saves a loadable adapter and writes eval.json."""

from __future__ import annotations

import json
import math

import pytest

from rlhf_playground.cli import main
from rlhf_playground.data.prompts import load_prompts, split_prompts
from rlhf_playground.errors import UserError
from rlhf_playground.jobs import create_run
from rlhf_playground.stages import online
from rlhf_playground.stages.grpo import GRPOStageConfig
from rlhf_playground.stages.rloo import RLOOStageConfig

TOPICS = ["the sea", "a train ride", "winter", "a good book", "my garden", "a rainy day", "music", "tea"]
EVAL_KEYS = {"held_out_prompts", "reward_before", "reward_after", "final_kl", "reward"}


def prompts_file(path, n=16):
    path.write_text(
        "".join(json.dumps({"prompt": f"Tell me about {t}, part {i}."}) + "\n" for i, t in enumerate((TOPICS * 4)[:n])),
        encoding="utf-8",
    )
    return str(path)


def small(cls, tiny_model_dir, dataset, **overrides):
    settings = dict(
        model=str(tiny_model_dir),
        dataset=dataset,
        steps=3,
        batch_size=4,
        num_generations=2,
        max_new_tokens=6,
        eval_prompts=4,
    )
    return cls(**{**settings, **overrides})


@pytest.mark.parametrize("stage,cls", [("grpo", GRPOStageConfig), ("rloo", RLOOStageConfig)])
def test_method_trains_saves_an_adapter_and_evaluates(stage, cls, tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config = small(cls, tiny_model_dir, prompts_file(tmp_path / "p.jsonl"))
    config.validate()
    run = create_run(stage, config)
    outcome = online.run(config, run)

    assert [m["step"] for m in run.metrics() if "loss" in m] == [1, 2, 3]
    rows = [m for m in run.metrics() if "reward" in m]
    assert [m["step"] for m in rows] == [1, 3]  # 2 passes over each batch: answers are sampled every other update
    assert all(math.isfinite(m["loss"]) and "rewards/lexicon/mean" in m and "kl" in m for m in rows)
    evaluation = json.loads((run.artifacts / "eval.json").read_text())
    assert set(evaluation) == EVAL_KEYS and evaluation["held_out_prompts"] == 4
    length = [m["completions/mean_length"] for m in rows][-1]  # KL per answer, as PPO's: TRL logs it per token
    assert evaluation["final_kl"] == pytest.approx([m["kl"] for m in run.metrics() if "kl" in m][-1] * length)
    assert -1 <= evaluation["reward_before"] <= 1 and -1 <= evaluation["reward_after"] <= 1
    samples = json.loads((run.artifacts / "samples.json").read_text())
    assert len(samples) == 4 and set(samples[0]) == {"prompt", "response", "reward"}
    assert outcome["adapter"] == str(run.artifacts / "adapter") and not (run.path / "trainer").exists()
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), outcome["adapter"])
    assert any("lora_" in name for name, _ in model.named_parameters())


def test_one_batch_of_answers_serves_as_many_updates_as_ppo_makes(tiny_model_dir, tmp_path, monkeypatch):
    """batch 4, mini-batches of 2, 2 passes: 4 updates per sampled batch (PPO's batch/mini x epochs), so 8 updates
    sample 2 batches of 4 answers."""
    from rlhf_playground.rewards import scorers

    batches = []

    class Counting:
        name = "lexicon"

        def score(self, prompts, responses):
            batches.append(len(responses))
            return [float(len(r) % 3) for r in responses]

    monkeypatch.setattr(scorers, "make_scorer", lambda spec: Counting())
    config = small(
        GRPOStageConfig, tiny_model_dir, prompts_file(tmp_path / "p.jsonl"), steps=8, mini_batch_size=2, eval_prompts=3
    )
    assert config.updates_per_batch() == 4
    run = create_run("grpo", config)
    online.run(config, run)
    assert [m["step"] for m in run.metrics() if "loss" in m] == list(range(1, 9))
    assert [n for n in batches if n != 3] == [4, 4]  # training batches (the held-out evaluations score 3)


def test_held_out_prompts_are_the_ones_ppo_holds_out(tmp_path, tiny_model_dir):
    dataset = prompts_file(tmp_path / "p.jsonl")
    _, held_out = small(GRPOStageConfig, tiny_model_dir, dataset, seed=7).prompts()
    assert held_out == split_prompts(load_prompts(dataset), 4, 7)[1]


class Fixed:
    name = "reward:somewhere"

    def score(self, prompts, responses):
        return [1.0, float("nan")][: len(responses)]


def test_reward_function_reads_chat_completions_and_turns_nan_into_none():
    seen = []
    reward = online.reward_function(Fixed(), seen.extend)
    chat = [[{"role": "user", "content": "Hi?"}], "Plain prompt"]
    answers = [[{"role": "assistant", "content": "Hello"}], " there "]
    assert reward(prompts=chat, completions=answers, trainer_state=None) == [1.0, None]
    assert reward.__name__ == "reward"
    assert seen == [
        {"prompt": "Hi?", "response": "Hello", "reward": 1.0},
        {"prompt": "Plain prompt", "response": "there", "reward": None},
    ]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"num_generations": 1}, "num_generations must be at least 2"),
        ({"batch_size": 6, "num_generations": 4}, "must be a multiple of num_generations"),
        ({"reward": "sentiment"}, "Unknown reward"),
        ({"reward": "reward:/nowhere/at/all"}, "doesn't exist"),
        ({"batch_size": 40, "num_generations": 2}, "fewer than the 20 each step answers"),
        ({"beta": -1.0}, "beta can't be negative"),
        ({"mini_batch_size": 3}, "mini_batch_size \\(3\\) must divide batch_size \\(4\\)"),
    ],
)
def test_impossible_settings_are_refused(change, message, tmp_path, tiny_model_dir):
    config = small(GRPOStageConfig, tiny_model_dir, prompts_file(tmp_path / "p.jsonl"), **change)
    with pytest.raises(UserError, match=message):
        config.validate()


def test_a_preference_dataset_without_prompts_is_refused(tmp_path, tiny_model_dir):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps({"chosen": "Human: hi\n\nAssistant: hello", "rejected": "Human: hi\n\nAssistant: go"}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError, match="RLOO needs prompts"):
        small(RLOOStageConfig, tiny_model_dir, str(pairs)).validate()


def test_cli_has_both_commands_and_refuses_bad_settings(tmp_path, tiny_model_dir, capsys):
    dataset = prompts_file(tmp_path / "p.jsonl")
    for command in ("grpo", "rloo"):
        code = main(
            [
                command,
                "--model",
                str(tiny_model_dir),
                "--dataset",
                dataset,
                "--num-generations",
                "3",
                "--batch-size",
                "4",
            ]
        )
        assert code == 2 and "must be a multiple of num_generations" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["grpo", "--help"])
    assert "--scale-rewards" in capsys.readouterr().out


def test_a_run_started_from_an_sft_adapter_notes_it_so_compare_loads_it_right(tmp_path, tiny_model_dir, fine_adapter):
    from rlhf_playground.evaluation.compare import resolve_tuned

    config = small(
        GRPOStageConfig, tiny_model_dir, prompts_file(tmp_path / "p.jsonl"), steps=1, adapter=str(fine_adapter)
    )
    run = create_run("grpo", config)
    outcome = online.run(config, run)
    note = json.loads((run.artifacts / "adapter" / "policy.json").read_text())
    assert note["base_model"] == str(tiny_model_dir) and note["sft_adapter"] == str(fine_adapter)
    [entry] = resolve_tuned(outcome["adapter"], str(tiny_model_dir))
    assert entry.on_sft and not entry.shares_base
