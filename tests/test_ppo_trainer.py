"""The PPO loop on the tiny random Llama: it learns, it guards against garbage, it checks its settings.

The key test makes a random policy learn to say one word. Three choices make that
possible in seconds on a CPU:

* the tiny model's logits are rescaled (its final RMSNorm gain times 6): with 0.02-std
  tied embeddings a logit is at most |norm(h)| * |e| = 8 * 0.16 ~ 1.3, so however LoRA
  changed the hidden state no token could ever become likely;
* the rewarded word is the whole-word token the untrained policy finds likeliest (about
  1-2% per token), the way RLHF amplifies what the base model already does now and then;
* 32 answers per step, so that the first batches hold a few answers that earn anything.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

from rlhf_playground.errors import UserError
from rlhf_playground.models import load_causal_lm
from rlhf_playground.ppo.trainer import (PPOStageConfig, PPOTrainer, load_policy, load_prompts, prompt_text,
                                         split_prompts)

PROMPTS = [f"Tell me about item {i}" for i in range(48)]
TRAIN, HELD_OUT = PROMPTS[:32], PROMPTS[32:]


class TokenShareScorer:
    """Reward = share of the response's characters taken by occurrences of ``word``, in [0, 1].

    Counted on the text (as every scorer works), so it doesn't matter how the policy's
    tokens happened to split or glue the word: "France France" and "FranceFrance" both score 1.
    """

    name = "token-share"

    def __init__(self, word: str = ""):
        self.word = word

    def score(self, prompts, responses):
        return [text.count(self.word) * len(self.word) / max(len(text), 1) if self.word else 0.0
                for text in responses]

    def describe(self, prompts, responses):
        return [{"score": s, "label": None, "positive": None} for s in self.score(prompts, responses)]


class NaNEverySecond(TokenShareScorer):
    name = "nan-every-second"

    def score(self, prompts, responses):
        return [math.nan if i % 2 else 0.5 for i in range(len(responses))]


def tiny_config(tiny_model_dir, **overrides) -> PPOStageConfig:
    settings = dict(model=str(tiny_model_dir), dataset="prompts.jsonl", steps=3, batch_size=8, mini_batch_size=4,
                    max_new_tokens=6, eval_prompts=4)
    return PPOStageConfig(**{**settings, **overrides})


def make_trainer(tiny_model_dir, scorer, sharpen: float = 1.0, **overrides) -> PPOTrainer:
    model, tokenizer = load_causal_lm(str(tiny_model_dir))
    with torch.no_grad():  # logits = norm(h) . e: a bigger norm gain widens the range logits can reach
        model.model.norm.weight.mul_(sharpen)
    return PPOTrainer(tiny_config(tiny_model_dir, **overrides), model, tokenizer, scorer, TRAIN)


def params_finite(trainer: PPOTrainer) -> bool:
    return all(torch.isfinite(p).all() for p in trainer.params)


# ------------------------------------------------------------------ it learns
def likeliest_word(trainer: PPOTrainer) -> str:
    """The whole-word token (" France"...) with the highest mean probability over sampled answers."""
    batch = trainer.rollout(TRAIN)
    with torch.no_grad():
        _, _, logits = trainer.forward(batch)
    probs = (logits.softmax(-1) * batch.mask[..., None]).sum((0, 1)) / batch.mask.sum()
    pieces = {i: trainer.tokenizer.decode([i]) for i in range(len(probs))}
    words = [i for i, text in pieces.items() if text.startswith(" ") and text[1:].isalpha() and len(text) > 3]
    return pieces[max(words, key=lambda i: probs[i])].strip()


def test_tiny_policy_learns_to_raise_the_reward(tiny_model_dir):
    scorer = TokenShareScorer()
    trainer = make_trainer(tiny_model_dir, scorer, sharpen=6.0, steps=15, batch_size=32, mini_batch_size=16,
                           learning_rate=3e-3, max_new_tokens=8, init_kl_coef=0.05, seed=0)
    scorer.word = likeliest_word(trainer)
    before = trainer.evaluate(HELD_OUT)  # greedy answers to prompts it never trains on
    seen = []
    history = trainer.train(on_step=seen.append)
    after = trainer.evaluate(HELD_OUT)
    rewards = [s["reward_mean"] for s in history]
    print(f"word {scorer.word!r}; mean reward per step {[round(r, 2) for r in rewards]}; "
          f"greedy held-out before {before:.3f} after {after:.3f}; kl {history[-1]['kl']:.2f}")
    assert seen == history and len(history) == 15
    assert sum(rewards[-3:]) / 3 > rewards[0] + 0.15
    assert after > before + 0.25
    assert all(math.isfinite(s["kl"]) and math.isfinite(s["entropy"]) for s in history)
    assert history[-1]["kl"] > 0.1  # it got there by moving away from the reference
    assert params_finite(trainer)


def test_step_reports_every_stat_and_the_samples(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, TokenShareScorer("the"))
    stats = trainer.step()
    for key in ("reward_mean", "reward_min", "reward_max", "kl", "kl_coef", "entropy", "policy_loss",
                "value_loss", "clipfrac", "approx_kl", "response_length_mean"):
        assert math.isfinite(stats[key]), key
    assert stats["kl"] == pytest.approx(0.0, abs=1e-5)  # LoRA starts at zero: policy == reference
    assert stats["kl_coef"] == 0.05 and 1 <= stats["response_length_mean"] <= 6
    assert len(stats["samples"]) == 8 and set(stats["samples"][0]) == {"prompt", "response", "reward"}
    assert stats["samples"][0]["prompt"] in TRAIN
    json.dumps(stats)  # goes to metrics.jsonl as it is


def test_train_stops_when_asked(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, TokenShareScorer("the"), steps=10)
    seen = []
    trainer.train(on_step=seen.append, should_stop=lambda: len(seen) >= 2)
    assert [s["step"] for s in seen] == [1, 2]


# ------------------------------------------------------------------ guards
def test_nan_rewards_are_dropped_with_a_warning(tiny_model_dir, caplog):
    trainer = make_trainer(tiny_model_dir, NaNEverySecond())
    stats = trainer.step()
    assert stats["dropped"] == 4 and any("NaN" in w for w in stats["warnings"])
    assert "NaN" in caplog.text
    assert [s["reward"] for s in stats["samples"]] == [0.5, None] * 4
    assert stats["reward_mean"] == 0.5 and math.isfinite(stats["policy_loss"]) and params_finite(trainer)


def test_all_nan_rewards_fail_the_step(tiny_model_dir):
    class AllNaN(TokenShareScorer):
        def score(self, prompts, responses):
            return [math.inf if i == 0 else math.nan for i in range(len(responses))]

    trainer = make_trainer(tiny_model_dir, AllNaN())
    with pytest.raises(UserError, match="NaN or infinite scores for every answer"):
        trainer.step()


def test_empty_answers_get_the_penalty_and_a_collapse_warning(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, TokenShareScorer("the"), penalize_non_ending=True,
                           non_ending_penalty=-2.0)
    generate = trainer.generate
    trainer.generate = lambda prompts, greedy=False: replace(generate(prompts, greedy), responses=[""] * len(prompts))
    history = [trainer.step() for _ in range(3)]
    assert all(s["reward"] == -2.0 for s in history[0]["samples"])
    assert any("8 of 8 answers were empty" in w for w in history[0]["warnings"])
    assert not any("nothing for" in w for w in history[1]["warnings"])
    assert any("nothing for 3 steps" in w for w in history[2]["warnings"])


def test_empty_answers_without_penalty_get_the_lowest_score(tiny_model_dir):
    class HalfEmpty(TokenShareScorer):
        def score(self, prompts, responses):
            return [5.0 if not text else 1.0 + i for i, text in enumerate(responses)]

    trainer = make_trainer(tiny_model_dir, HalfEmpty())
    generate = trainer.generate
    blank = lambda texts: ["" if i % 2 else t or "x" for i, t in enumerate(texts)]  # noqa: E731
    trainer.generate = lambda prompts, greedy=False: replace(b := generate(prompts, greedy),
                                                             responses=blank(b.responses))
    rewards = [s["reward"] for s in trainer.step()["samples"]]
    assert rewards == [1.0, 1.0, 3.0, 1.0, 5.0, 1.0, 7.0, 1.0]  # empty ones: the batch's lowest score


# ------------------------------------------------------------------ reference, saving, starting from SFT
def test_reference_is_the_sft_model_and_save_round_trips(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    base, tokenizer = load_causal_lm(str(tiny_model_dir))
    torch.manual_seed(3)  # an "SFT" adapter with non-zero weights
    sft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False))
    sft.save_pretrained(tmp_path / "sft")
    model, tokenizer = load_causal_lm(str(tiny_model_dir), adapter=str(tmp_path / "sft"))
    ids = tokenizer("The capital of France", return_tensors="pt")
    with torch.no_grad():
        sft_logits = model(**ids).logits
    config = tiny_config(tiny_model_dir, adapter=str(tmp_path / "sft"), learning_rate=1e-2, steps=2)
    trainer = PPOTrainer(config, model, tokenizer, TokenShareScorer("the"), TRAIN)
    trainer.train()
    with torch.no_grad():
        with trainer.model.disable_adapter():
            ref_logits = trainer.model(**ids).logits
        policy_logits = trainer.model(**ids).logits
    assert torch.allclose(ref_logits, sft_logits, atol=1e-4)  # the reference is SFT, not the bare base
    assert not torch.allclose(policy_logits, sft_logits, atol=1e-4)  # and PPO moved the policy

    out = trainer.save(tmp_path / "ppo")
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "value_head.safetensors",
                 "ppo_policy.json"):
        assert (out / name).is_file(), name
    loaded, _ = load_policy(out)
    with torch.no_grad():
        assert torch.allclose(loaded(**ids).logits, policy_logits, atol=1e-4)


# ------------------------------------------------------------------ settings
def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("change, message", [
    (dict(learning_rate=0.0), "learning_rate must be above 0"),
    (dict(batch_size=0), "batch_size must be at least 1"),
    (dict(mini_batch_size=3), "must divide batch_size"),
    (dict(mini_batch_size=16), "must divide batch_size"),
    (dict(mini_batch_size=0), "must divide batch_size"),
    (dict(temperature=0.0), "temperature must be above 0"),
    (dict(clip_range=0.0), "clip_range and clip_range_value"),
    (dict(clip_range_value=-1.0), "clip_range and clip_range_value"),
    (dict(steps=0), "steps must be at least 1"),
    (dict(ppo_epochs=0), "ppo_epochs"),
    (dict(top_p=0.0), "top_p"),
    (dict(max_new_tokens=0), "max_new_tokens"),
    (dict(kl_estimator="k2"), "kl_estimator"),
    (dict(reward_scaling="zscore"), "reward_scaling"),
    (dict(lam=1.5), "gamma and lam"),
    (dict(lora_dropout=1.0), "lora_dropout"),
    (dict(reward=" "), "Choose a reward"),
    (dict(dataset=""), "Choose a dataset"),
])
def test_validate_refuses_impossible_settings(tmp_path, change, message):
    dataset = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": p} for p in PROMPTS])
    with pytest.raises(UserError, match=message):
        PPOStageConfig(**{"dataset": dataset, **change}).validate()


def test_validate_needs_prompts(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [{"prompt": "Hi"}, {"prompt": [{"role": "user", "content": "Yo"}]}])
    PPOStageConfig(dataset=good).validate()
    assert [prompt_text(p) for p in load_prompts(good)] == ["Hi", "Yo"]
    no_prompt = write_jsonl(tmp_path / "text.jsonl", [{"text": "just text"}])
    with pytest.raises(UserError, match="no prompts.*text"):
        PPOStageConfig(dataset=no_prompt).validate()
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(UserError, match="no prompts"):
        PPOStageConfig(dataset=str(tmp_path / "empty.jsonl")).validate()
    with pytest.raises(UserError, match="doesn't exist"):
        PPOStageConfig(dataset=str(tmp_path / "missing.jsonl")).validate()


def test_split_prompts_holds_out_only_when_there_are_enough():
    train, held = split_prompts(PROMPTS, 16, seed=1)
    assert len(held) == 16 and len(train) == 32 and not set(train) & set(held)
    train, held = split_prompts(PROMPTS[:20], 16, seed=1)
    assert len(train) == 20 and set(held) <= set(train)
