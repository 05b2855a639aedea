"""The PPO loop on the tiny random Llama: it learns, it guards against garbage, it checks its settings.

The key test makes a random policy learn to say one word. Four choices make that
possible in a few seconds on a CPU:

* the tiny model's logits are rescaled (its final RMSNorm gain times 10): with 0.02-std
  output weights a logit is at most |norm(h)| * |w| = 8 * 0.16 ~ 1.3, so however LoRA
  changed the hidden state no token could become likely (greedy answers would change,
  sampled ones hardly);
* the rewarded word is the whole-word token the untrained policy finds likeliest (under
  1% per token), the way RLHF amplifies what the base model already does now and then;
* 32 answers per step, so that the first batches hold a few answers that earn anything;
* scores are whitened per batch: raw shares are around 0.01, and unscaled the KL
  penalty (0.05 x a few nats) outweighs them and the policy barely moves.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

from rlhf_playground.data.prompts import load_prompts, prompt_text, split_prompts
from rlhf_playground.errors import UserError
from rlhf_playground.models import load_causal_lm
from rlhf_playground.models.generation import answer_mask
from rlhf_playground.models.policy import load_policy
from rlhf_playground.ppo.config import PPOStageConfig
from rlhf_playground.ppo.trainer import PPOTrainer, build_trainer

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
        return [text.count(self.word) * len(self.word) / max(len(text), 1) if self.word else 0.0 for text in responses]

    def describe(self, prompts, responses):
        return [{"score": s, "label": None, "positive": None} for s in self.score(prompts, responses)]


class NaNEverySecond(TokenShareScorer):
    name = "nan-every-second"

    def score(self, prompts, responses):
        return [math.nan if i % 2 else 0.5 for i in range(len(responses))]


class LengthScorer(TokenShareScorer):
    """A dense reward (every answer gets a different score), so that any step moves the policy."""

    def score(self, prompts, responses):
        return [len(text) / 10 for text in responses]


def tiny_config(tiny_model_dir, **overrides) -> PPOStageConfig:
    settings = dict(
        model=str(tiny_model_dir),
        dataset="prompts.jsonl",
        steps=3,
        batch_size=8,
        mini_batch_size=4,
        max_new_tokens=6,
        eval_prompts=4,
    )
    return PPOStageConfig(**{**settings, **overrides})


def make_trainer(tiny_model_dir, scorer, sharpen: float = 1.0, **overrides) -> PPOTrainer:
    model, tokenizer = load_causal_lm(str(tiny_model_dir))
    with torch.no_grad():  # logits = norm(h) . w: a bigger norm gain widens the range logits can reach
        model.model.norm.weight.mul_(sharpen)
    return PPOTrainer(tiny_config(tiny_model_dir, **overrides), model, tokenizer, scorer, TRAIN)


def untrimmed(trainer: PPOTrainer, batch, rows=slice(None)) -> tuple[torch.Tensor, torch.Tensor]:
    """The policy's tempered logits and values over every answer slot of ``rows``, padding computed too."""
    ids, attn, T = batch.input_ids[rows], batch.attention_mask[rows], batch.mask.shape[1]
    with torch.no_grad():
        out = trainer.model(
            input_ids=ids,
            attention_mask=attn,
            position_ids=(attn.cumsum(1) - 1).clamp_min(0),
            output_hidden_states=True,
        )
    values = trainer.value_head(out.hidden_states[-1][:, -T - 1 : -1].float()).squeeze(-1)
    return out.logits[:, -T - 1 : -1].float() / trainer.config.temperature, values


def params_finite(trainer: PPOTrainer) -> bool:
    return all(torch.isfinite(p).all() for p in trainer.params)


# ------------------------------------------------------------------ it learns
def likeliest_word(trainer: PPOTrainer) -> str:
    """The whole-word token (" France"...) with the highest mean probability over sampled answers."""
    batch = trainer.rollout(TRAIN)
    logits = untrimmed(trainer, batch)[0]
    probs = (logits.softmax(-1) * batch.mask[..., None]).sum((0, 1)) / batch.mask.sum()
    pieces = {i: trainer.tokenizer.decode([i]) for i in range(len(probs))}
    words = [i for i, text in pieces.items() if text.startswith(" ") and text[1:].isalpha() and len(text) > 3]
    return pieces[max(words, key=lambda i: probs[i])].strip()


def test_tiny_policy_learns_to_raise_the_reward(tiny_model_dir):
    scorer = TokenShareScorer()
    trainer = make_trainer(
        tiny_model_dir,
        scorer,
        sharpen=10.0,
        steps=15,
        batch_size=32,
        mini_batch_size=16,
        learning_rate=3e-3,
        max_new_tokens=8,
        init_kl_coef=0.05,
        reward_scaling="whiten",
        seed=0,
    )
    scorer.word = likeliest_word(trainer)
    before = trainer.evaluate(HELD_OUT)  # greedy answers to prompts it never trains on
    seen = []
    history = trainer.train(on_step=seen.append)
    after = trainer.evaluate(HELD_OUT)
    rewards = [s["reward_mean"] for s in history]
    print(
        f"word {scorer.word!r}; mean reward per step {[round(r, 2) for r in rewards]}; "
        f"greedy held-out before {before:.3f} after {after:.3f}; kl {history[-1]['kl']:.2f}"
    )
    assert seen == history and len(history) == 15
    assert sum(rewards[-3:]) / 3 > rewards[0] + 0.15
    assert after > before + 0.25
    assert all(math.isfinite(s["kl"]) and math.isfinite(s["entropy"]) for s in history)
    assert history[-1]["kl"] > 0.1  # it got there by moving away from the reference
    assert params_finite(trainer)


def test_step_reports_every_stat_and_the_samples(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, TokenShareScorer("the"))
    stats = trainer.step()
    for key in (
        "reward_mean",
        "reward_min",
        "reward_max",
        "kl",
        "kl_coef",
        "entropy",
        "policy_loss",
        "value_loss",
        "clipfrac",
        "approx_kl",
        "ratio_mean",
        "value_mean",
        "return_mean",
        "response_length_mean",
    ):
        assert math.isfinite(stats[key]), key
    assert stats["value_mean"] == 0.0  # the value head starts at zero: it has predicted nothing yet
    ev = stats["explained_variance"]  # ... so it explains none of the returns (NaN: they didn't vary)
    assert ev == pytest.approx(0.0, abs=1e-6) or math.isnan(ev)
    assert stats["kl"] == pytest.approx(0.0, abs=1e-5)  # LoRA starts at zero: policy == reference
    assert stats["kl_coef"] == 0.05 and 1 <= stats["response_length_mean"] <= 6
    assert len(stats["samples"]) == 8 and set(stats["samples"][0]) == {"prompt", "response", "reward"}
    assert stats["samples"][0]["prompt"] in TRAIN
    json.dumps(stats)  # goes to metrics.jsonl as it is
    assert trainer.answer(HELD_OUT[:4]) == trainer.answer(HELD_OUT[:4])  # greedy: the same every time


def test_train_stops_when_asked(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, TokenShareScorer("the"), steps=10)
    seen = []
    trainer.train(on_step=seen.append, should_stop=lambda: len(seen) >= 2)
    assert [s["step"] for s in seen] == [1, 2]


# ------------------------------------------------------------------ guards
def test_answers_are_cut_after_their_first_eos():
    eos, pad = 2, 0
    answer = torch.tensor([[5, eos, 7, pad], [5, 6, 7, 8], [eos, pad, pad, pad], [5, eos, eos, eos]])
    mask, ended = answer_mask(answer, [eos, 9])
    assert mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]]
    assert ended.tolist() == [True, False, True, True]
    assert answer_mask(torch.tensor([[9, 5]]), [eos, 9])[0].tolist() == [[1, 0]]  # any of several EOS ids


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
    trainer = make_trainer(tiny_model_dir, TokenShareScorer("the"), penalize_non_ending=True, non_ending_penalty=-2.0)
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
    trainer.generate = lambda prompts, greedy=False: replace(
        b := generate(prompts, greedy), responses=blank(b.responses)
    )
    rewards = [s["reward"] for s in trainer.step()["samples"]]
    assert rewards == [1.0, 1.0, 3.0, 1.0, 5.0, 1.0, 7.0, 1.0]  # empty ones: the batch's lowest score


def test_non_ending_answers_get_the_penalty(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, LengthScorer(), penalize_non_ending=True, non_ending_penalty=-3.0)
    generate = trainer.generate
    half_ended = torch.tensor([True, False] * 4)
    trainer.generate = lambda prompts, greedy=False: replace(generate(prompts, greedy), ended=half_ended)
    rewards = [s["reward"] for s in trainer.step()["samples"]]
    assert rewards[1::2] == [-3.0] * 4 and all(r >= 0 for r in rewards[0::2])


def test_adaptive_kl_running_scaling_and_k3(tiny_model_dir):
    trainer = make_trainer(
        tiny_model_dir,
        LengthScorer(),
        adaptive_kl=True,
        target_kl=0.01,
        kl_horizon=10,
        reward_scaling="running",
        kl_estimator="k3",
        learning_rate=1e-2,
        steps=4,
    )
    history = trainer.train()
    assert all(s["kl"] >= 0 for s in history)  # k3 is never negative
    assert history[-1]["kl"] > 0.01 and history[-1]["kl_coef"] > history[0]["kl_coef"]  # too much KL: beta rises
    assert trainer.running.count == 32


# ------------------------------------------------------------------ any device, no dropout, the critic
def test_a_step_keeps_every_tensor_on_the_models_device(tiny_model_dir):
    """On a GPU a tensor made without ``device=`` lands on the CPU beside the model's. No GPU here, so the
    test turns it round: made without ``device=``, a tensor lands on "meta" beside the model's CPU tensors,
    and mixing the two fails just as CPU and CUDA do. Scores, rewards, advantages and the update must not."""
    trainer = make_trainer(tiny_model_dir, LengthScorer(), penalize_non_ending=True, reward_scaling="running")
    trainer.step()  # the optimiser makes its state (on the default device) in its first step
    full = trainer.rollout(TRAIN[:8])
    torch.set_default_device("meta")
    try:
        batch, scores, _, _ = trainer.guarded_scores(full)
        logs, critic, kl, n = trainer.update(batch, scores)
    finally:
        torch.set_default_device(None)
    assert scores.device.type == "cpu" and n == 8 and math.isfinite(kl)
    assert math.isfinite(critic["explained_variance"]) and logs["ratio_mean"]


class ScoresOn(TokenShareScorer):
    """Scores as a tensor on ``device`` (e.g. a reward model left on another GPU), ``extra`` of them too many."""

    name = "elsewhere"

    def __init__(self, device: str = "cpu", extra: int = 0):
        self.device, self.extra = device, extra

    def score(self, prompts, responses):
        return torch.ones(len(responses) + self.extra, device=self.device)


@pytest.mark.parametrize(
    "scorer, message",
    [
        (ScoresOn("meta"), "returned its scores on meta, but the policy is on cpu"),
        (ScoresOn(extra=1), "returned 9 scores for 8 answers"),
        (ScoresOn(extra=-8), "returned 0 scores for 8 answers"),
    ],
)
def test_a_reward_on_another_device_or_of_the_wrong_length_is_named(tiny_model_dir, scorer, message):
    trainer = make_trainer(tiny_model_dir, scorer)
    with pytest.raises(UserError, match=f"reward 'elsewhere' {message}"):
        trainer.step()


def test_the_rollout_takes_the_policys_logprobs_and_values_from_sampling(tiny_model_dir):
    """No pass done twice: sampling's own logits and states give what a second forward pass would."""
    trainer = make_trainer(tiny_model_dir, LengthScorer(), learning_rate=1e-2, temperature=0.7)
    trainer.step()  # a trained adapter and value head: policy != reference, values != 0
    batch = trainer.rollout(TRAIN[:8])
    with torch.no_grad():
        logprobs, values = trainer.forward(batch)
    real = batch.mask.bool()
    assert values[real].abs().max() > 1e-3 and (batch.logprobs - batch.ref_logprobs)[real].abs().max() > 1e-3
    assert torch.allclose(batch.logprobs[real], logprobs[real], atol=1e-4)
    assert torch.allclose(batch.values[real], values[real], atol=1e-4)
    assert batch.generated is None  # the logits of every step are let go once used


def test_a_mini_batch_computes_only_the_columns_its_rows_use_and_gets_the_same_figures(tiny_model_dir):
    """A mini-batch's rows have shorter prompts and answers than the batch's longest: the padding around them is
    not computed, and the log-probs and values of their real tokens are what the whole width gives."""
    trainer = make_trainer(tiny_model_dir, LengthScorer(), learning_rate=1e-2, max_new_tokens=12)
    trainer.step()  # a trained value head: values != 0
    batch = trainer.rollout(TRAIN[:16])
    lengths, widths = batch.mask.sum(1), batch.attention_mask.sum(1) - batch.mask.sum(1)
    rows = torch.tensor([int(lengths.argmin()), int(widths.argmin())])
    assert lengths[rows].max() < batch.mask.shape[1] or widths[rows].max() < widths.max()  # something to trim
    seen = []
    model_forward = trainer.model.forward
    trainer.model.forward = lambda *args, **kwargs: (
        seen.append(kwargs["input_ids"].shape[1]) or model_forward(*args, **kwargs)
    )
    with torch.no_grad():
        logprobs, values = trainer.forward(batch, rows)
    assert seen == [int(widths[rows].max() + lengths[rows].max())]
    logits, full_values = untrimmed(trainer, batch, rows)
    want = torch.gather(logits.log_softmax(-1), 2, batch.input_ids[rows, -batch.mask.shape[1] :, None]).squeeze(-1)
    real = batch.mask[rows].bool()
    assert torch.allclose(logprobs[real], want[real], atol=1e-4)
    assert torch.allclose(values[real], full_values[real], atol=1e-4)
    assert logprobs.shape == values.shape == batch.mask[rows].shape


def test_dropout_never_moves_the_ratio_before_the_policy_does(tiny_model_dir, monkeypatch):
    """The rollout's log-probs are taken without dropout; with LoRA dropout in the update the first
    mini-batch's ratio would be off 1 (and clipped at random) before any weight has changed."""
    from rlhf_playground.ppo import core

    trainer = make_trainer(tiny_model_dir, LengthScorer(), lora_dropout=0.5, learning_rate=1e-2)
    trainer.step()  # LoRA's B starts at zero, so dropout shows only once the adapter has learned something
    assert any(p.abs().sum() > 0 for n, p in trainer.model.named_parameters() if "lora_B" in n)
    first = []
    policy_loss = core.policy_loss
    monkeypatch.setattr(core, "policy_loss", lambda *a, **k: first.append(policy_loss(*a, **k)) or first[-1])
    trainer.step()
    _, stats = first[0]  # the first mini-batch of the first epoch: nothing has been updated yet
    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-4) and stats["clipfrac"] == 0.0


def test_a_critic_that_explains_nothing_is_reported(tiny_model_dir):
    trainer = make_trainer(tiny_model_dir, LengthScorer())
    assert [trainer.critic_warnings(-0.5) for _ in range(3)] == [[], [], []]
    (warning,) = trainer.critic_warnings(-0.2)
    assert "critic isn't learning" in warning and "4 steps" in warning
    assert trainer.critic_warnings(0.3) == [] and trainer.critic_warnings(-0.1) == []  # a good step resets it


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
    trainer = PPOTrainer(config, model, tokenizer, LengthScorer(), TRAIN)
    trainer.train()
    with torch.no_grad():
        with trainer.model.disable_adapter():
            ref_logits = trainer.model(**ids).logits
        policy_logits = trainer.model(**ids).logits
    assert torch.allclose(ref_logits, sft_logits, atol=1e-4)  # the reference is SFT, not the bare base
    assert not torch.allclose(policy_logits, sft_logits, atol=1e-4)  # and PPO moved the policy

    out = trainer.save(tmp_path / "ppo")
    for name in (
        "adapter_config.json",
        "adapter_model.safetensors",
        "tokenizer.json",
        "value_head.safetensors",
        "policy.json",
    ):
        assert (out / name).is_file(), name
    loaded, _ = load_policy(out)
    with torch.no_grad():
        assert torch.allclose(loaded(**ids).logits, policy_logits, atol=1e-4)


# ------------------------------------------------------------------ from a config
@pytest.mark.filterwarnings("error:.*autograd kernel was not registered")  # a 4-bit op without a backward
@pytest.mark.parametrize(
    "load_in_4bit, compute_dtype",
    [(False, "auto"), (True, "auto"), (False, "bfloat16"), (True, "bfloat16")],
    ids=["lora", "qlora", "bf16", "qlora-bf16"],
)
def test_build_trainer_from_a_config_with_the_lexicon_reward(tiny_model_dir, tmp_path, load_in_4bit, compute_dtype):
    dataset = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": p} for p in PROMPTS[:12]])
    config = PPOStageConfig(
        model=str(tiny_model_dir),
        dataset=dataset,
        reward="lexicon",
        steps=2,
        batch_size=4,
        mini_batch_size=2,
        max_new_tokens=4,
        eval_prompts=4,
        load_in_4bit=load_in_4bit,
        compute_dtype=compute_dtype,
    )
    trainer, held_out = build_trainer(config)
    assert len(held_out) == 4 and len(trainer.prompts) == 8 and not set(held_out) & set(trainer.prompts)
    assert any(type(m).__name__ == "Linear4bit" for m in trainer.model.modules()) == load_in_4bit
    base = trainer.model.get_base_model().get_decoder().layers[0].mlp.up_proj.base_layer.weight
    if not load_in_4bit:  # float32 on a CPU unless asked
        assert base.dtype == (torch.bfloat16 if compute_dtype == "bfloat16" else torch.float32)
    assert {p.dtype for p in trainer.params} == {torch.float32}  # what Adam updates stays float32 in any case
    history = trainer.train()
    assert len(history) == 2 and all(math.isfinite(s["policy_loss"]) for s in history) and params_finite(trainer)
    assert -1 <= trainer.evaluate(held_out) <= 1


# ------------------------------------------------------------------ settings
def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "change, message",
    [
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
        (dict(reward="sentiment"), "Choose a reward"),
        (dict(reward="reward:/no/such/folder"), "doesn't exist"),
        (dict(dataset=""), "Choose a dataset"),
        (dict(compute_dtype="float16"), "PPO can't compute in float16"),
        (dict(compute_dtype="int8"), "compute_dtype must be one of"),
    ],
)
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
