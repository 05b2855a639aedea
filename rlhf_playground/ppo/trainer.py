"""PPO for a causal LM with LoRA, in one loop you can read top to bottom.

One :meth:`PPOTrainer.step` is one PPO iteration:

1. **Rollout** -- sample answers to a batch of prompts; score the answer texts with the
   scorer; run the policy once (log-probs ``logp``, values ``V``) and the reference once
   (``ref_logp``). The reference is the same network with the LoRA adapter switched off
   (``model.disable_adapter()``), so no second copy of the weights is kept.
2. **Rewards** -- ``r_t = -beta * KL_t`` on every answer token, plus the score on the last one
   (:func:`core.per_token_rewards`); then GAE gives advantages ``A_t`` and value targets.
3. **Optimise** -- ``ppo_epochs`` passes over shuffled mini-batches, minimising
   ``clipped policy loss + vf_coef * clipped value loss`` for the LoRA weights and the value
   head together (one Adam optimiser).

Guards, so that a run never silently trains on garbage: answers whose score is NaN or
infinite are dropped from the batch (with a warning; the step fails if all are), empty
answers are scored with the penalty (or the batch's lowest score), and a policy that
only answers with nothing for several steps is reported in the step's ``warnings``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import UserError, require

if TYPE_CHECKING:  # torch is imported where it is used, so that reading the config stays cheap
    import torch

log = logging.getLogger(__name__)
EMPTY_STREAK_WARNING = 3  # steps in a row of nothing but empty answers before we say so


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class PPOStageConfig:
    model: str = field(default="default", metadata=_help("policy base model: 'default', a local folder or a Hub name"))
    adapter: str = field(default="", metadata=_help(
        "an SFT run's adapter folder to start from (merged into the base, which then is the reference); empty: none"))
    dataset: str = field(default="", metadata=_help("a saved dataset's name or a .jsonl file with a 'prompt' column"))
    reward: str = field(default="lexicon", metadata=_help(
        "'lexicon' (VADER sentiment), 'classifier:<model>[:<label>]' or 'reward:<reward model folder>'"))
    steps: int = field(default=20, metadata=_help("PPO iterations (rollout + optimisation)"))
    batch_size: int = field(default=8, metadata=_help("prompts answered per iteration"))
    mini_batch_size: int = field(default=4, metadata=_help("answers per gradient step; must divide batch_size"))
    ppo_epochs: int = field(default=2, metadata=_help("passes over each batch of answers"))
    learning_rate: float = field(default=1e-5, metadata=_help("Adam learning rate for LoRA and the value head"))
    max_grad_norm: float = field(default=1.0, metadata=_help("clip the gradient norm to this; 0 turns it off"))
    lora_r: int = field(default=16, metadata=_help("LoRA rank"))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling; the update is scaled by alpha / r"))
    lora_dropout: float = field(default=0.0, metadata=_help("dropout on the LoRA branch, in [0, 1)"))
    load_in_4bit: bool = field(default=False, metadata=_help("load the base weights in 4-bit NF4 (QLoRA-style)"))
    init_kl_coef: float = field(default=0.05, metadata=_help("beta: weight of the per-token KL penalty"))
    adaptive_kl: bool = field(default=False, metadata=_help("steer beta so that the KL approaches target_kl"))
    target_kl: float = field(default=6.0, metadata=_help("with adaptive_kl: the KL per answer to aim for"))
    kl_horizon: int = field(default=10000, metadata=_help("with adaptive_kl: how slowly beta moves"))
    kl_estimator: str = field(default="k1", metadata=_help("'k1' (logp - ref_logp) or 'k3' (always >= 0)"))
    gamma: float = field(default=1.0, metadata=_help("discount per token"))
    lam: float = field(default=0.95, metadata=_help("GAE lambda: bias/variance trade-off of advantages"))
    clip_range: float = field(default=0.2, metadata=_help("policy ratio clip epsilon"))
    clip_range_value: float = field(default=0.2, metadata=_help("value clip epsilon"))
    vf_coef: float = field(default=0.1, metadata=_help("weight of the value loss"))
    reward_scaling: str = field(default="none", metadata=_help(
        "'none', 'whiten' (per batch) or 'running' (scale only); scale small scores up, or the KL penalty wins"))
    penalize_non_ending: bool = field(default=False, metadata=_help(
        "give answers that never end (no EOS within max_new_tokens) the score non_ending_penalty"))
    non_ending_penalty: float = field(default=-1.0, metadata=_help(
        "the score for non-ending answers (with penalize_non_ending) and for empty answers"))
    max_new_tokens: int = field(default=32, metadata=_help("longest answer, in tokens"))
    temperature: float = field(default=1.0, metadata=_help("sampling temperature (> 0)"))
    top_k: int = field(default=0, metadata=_help("sample among the k likeliest tokens; 0 = all"))
    top_p: float = field(default=1.0, metadata=_help("nucleus sampling mass in (0, 1]; 1 = all"))
    seed: int = field(default=42, metadata=_help("random seed (LoRA init, prompt order, sampling)"))
    eval_prompts: int = field(default=16, metadata=_help("prompts held out to measure mean reward before/after"))
    max_prompt_length: int = field(default=128, metadata=_help("prompts longer than this keep their last tokens"))

    def check_values(self) -> None:
        """The checks that need neither the data nor a model."""
        rules = [
            (self.steps > 0, f"steps must be at least 1 (got {self.steps})."),
            (self.batch_size > 0, f"batch_size must be at least 1 (got {self.batch_size})."),
            (0 < self.mini_batch_size <= self.batch_size and self.batch_size % max(self.mini_batch_size, 1) == 0,
             f"mini_batch_size ({self.mini_batch_size}) must divide batch_size ({self.batch_size})."),
            (self.ppo_epochs > 0, f"ppo_epochs must be at least 1 (got {self.ppo_epochs})."),
            (self.learning_rate > 0, f"learning_rate must be above 0 (got {self.learning_rate})."),
            (self.learning_rate < 1, f"learning_rate {self.learning_rate} is far too high; try 1e-5."),
            (self.max_grad_norm >= 0, f"max_grad_norm can't be negative (got {self.max_grad_norm})."),
            (self.lora_r > 0 and self.lora_alpha > 0, "lora_r and lora_alpha must be at least 1."),
            (0 <= self.lora_dropout < 1, f"lora_dropout must be in [0, 1) (got {self.lora_dropout})."),
            (self.init_kl_coef >= 0, f"init_kl_coef can't be negative (got {self.init_kl_coef})."),
            (self.target_kl > 0 and self.kl_horizon > 0, "target_kl and kl_horizon must be above 0."),
            (self.kl_estimator in ("k1", "k3"), f"kl_estimator must be 'k1' or 'k3' (got {self.kl_estimator!r})."),
            (0 <= self.gamma <= 1 and 0 <= self.lam <= 1, "gamma and lam must be in [0, 1]."),
            (self.clip_range > 0 and self.clip_range_value > 0, "clip_range and clip_range_value must be above 0."),
            (self.vf_coef >= 0, f"vf_coef can't be negative (got {self.vf_coef})."),
            (self.reward_scaling in ("none", "whiten", "running"),
             f"reward_scaling must be 'none', 'whiten' or 'running' (got {self.reward_scaling!r})."),
            (self.max_new_tokens > 0, f"max_new_tokens must be at least 1 (got {self.max_new_tokens})."),
            (self.temperature > 0, f"temperature must be above 0 (got {self.temperature})."),
            (self.top_k >= 0, f"top_k can't be negative (got {self.top_k})."),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1] (got {self.top_p})."),
            (self.eval_prompts >= 0, f"eval_prompts can't be negative (got {self.eval_prompts})."),
            (self.max_prompt_length > 0, f"max_prompt_length must be at least 1 (got {self.max_prompt_length})."),
            (self.reward.partition(":")[0].strip().lower() in ("lexicon", "vader", "classifier", "reward"),
             "Choose a reward: 'lexicon', 'classifier:<model>[:<label>]' or 'reward:<reward model folder>'."),
        ]
        require(rules)

    def validate(self) -> None:
        """Raise UserError for settings that can't work: the dataset's prompts, the reward model's folder, 4-bit."""
        from ..models import bnb_status
        from ..scorers import find_model_folder

        self.check_values()
        if not self.dataset.strip():
            raise UserError("Choose a dataset: a saved dataset's name or a .jsonl file with prompts.")
        load_prompts(self.dataset)
        kind, _, rest = self.reward.partition(":")
        if kind.strip().lower() == "reward":
            find_model_folder(rest.strip())
        ok, reason = bnb_status() if self.load_in_4bit else (True, "")
        if not ok:
            raise UserError(f"4-bit loading isn't available here: {reason} Turn load_in_4bit off.")


# ------------------------------------------------------------------ prompts
def load_prompts(dataset: str) -> list[str | list[dict]]:
    """The 'prompt' column of a dataset: plain strings or chat message lists."""
    from ..stages.sft import read_rows

    rows = read_rows(dataset)
    prompts = [row["prompt"] for row in rows if isinstance(row.get("prompt"), (str, list)) and row["prompt"]]
    if not prompts:
        columns = ", ".join(sorted(rows[0])) if rows else "none, it is empty"
        raise UserError(f"The dataset '{dataset}' has no prompts: PPO needs a 'prompt' column (its columns: {columns}).")
    return prompts


def prompt_text(prompt: str | list[dict]) -> str:
    """What a scorer reads as the prompt: the text, or the last user turn of a chat."""
    if isinstance(prompt, str):
        return prompt
    users = [m.get("content", "") for m in prompt if m.get("role") == "user"]
    return str(users[-1] if users else prompt[-1].get("content", ""))


def split_prompts(prompts: list, n_eval: int, seed: int) -> tuple[list, list]:
    """``(train, eval)``: ``n_eval`` prompts held out when at least as many remain for training."""
    order = list(prompts)
    random.Random(seed).shuffle(order)
    if 0 < n_eval and len(order) >= 2 * n_eval:
        return order[n_eval:], order[:n_eval]
    return order, order[:n_eval]  # too few to hold out: evaluate on training prompts


# ------------------------------------------------------------------ the trainer
def answer_mask(answer, eos_ids: list[int]):
    """``(mask, ended)`` for generated tokens ``(B, T)``: mask is 1 up to and including the first EOS.

    The EOS token stays in the mask: ending is an action the policy takes and gets credit for.
    """
    import torch

    is_eos = torch.isin(answer, torch.tensor(eos_ids, device=answer.device)).long()
    after_eos = (is_eos.cumsum(1) - is_eos) > 0  # strictly after the first EOS
    return (~after_eos).long(), is_eos.any(1)


@dataclass
class Rollout:
    """One batch of answers. Tensors are ``(B, T)`` over answer tokens unless noted."""

    prompts: list[str]
    responses: list[str]
    input_ids: torch.Tensor  # (B, P + T): left-padded prompt, then the answer
    attention_mask: torch.Tensor  # (B, P + T)
    mask: torch.Tensor  # 1 on answer tokens up to and including EOS
    ended: torch.Tensor  # (B,) whether the answer produced EOS
    logprobs: torch.Tensor | None = None
    ref_logprobs: torch.Tensor | None = None
    values: torch.Tensor | None = None
    entropy: float = 0.0

    def select(self, keep: torch.Tensor) -> "Rollout":
        """The rows where ``keep`` is true."""
        import torch

        idx = keep.nonzero().flatten()
        pick = lambda t: t[idx] if isinstance(t, torch.Tensor) else [t[i] for i in idx.tolist()]  # noqa: E731
        return Rollout(*(pick(getattr(self, name)) for name in
                         ("prompts", "responses", "input_ids", "attention_mask", "mask", "ended",
                          "logprobs", "ref_logprobs", "values")), entropy=self.entropy)


# ------------------------------------------------------------------ generation, shared with GRPO/RLOO/DPO
def prepare_base(model):
    """The weights a fresh LoRA adapter goes on: an SFT adapter folded in, so that it becomes the reference.

    Also keeps 4-bit layers trainable: on CPUs with AVX512-BF16, bitsandbytes repacks 4-bit weights
    for inference the first time they run in eval mode (rollouts); that layout has no backward.
    """
    from peft import PeftModel

    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False
    return model


def encode_prompt(tokenizer, prompt: str | list[dict], max_prompt_length: int) -> list[int]:
    """Prompt token ids as the model sees them: through the chat template when there is one."""
    if getattr(tokenizer, "chat_template", None):
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    else:
        ids = tokenizer(prompt_text(prompt), add_special_tokens=True)["input_ids"]
    return ids[-max_prompt_length:]


def generate_rollout(model, tokenizer, prompts: list, max_new_tokens: int, max_prompt_length: int,
                     sampling: dict | None = None) -> Rollout:
    """Answer ``prompts`` in one left-padded batch, greedy unless ``sampling`` is given; each ends at its first EOS."""
    import torch

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    gen_eos = model.generation_config.eos_token_id
    eos_ids = sorted({tokenizer.eos_token_id, *(gen_eos if isinstance(gen_eos, list) else [gen_eos])} - {None})
    ids = [encode_prompt(tokenizer, p, max_prompt_length) for p in prompts]
    width = max(map(len, ids))
    query = torch.tensor([[pad_id] * (width - len(q)) + q for q in ids], device=model.device)
    query_mask = torch.tensor([[0] * (width - len(q)) + [1] * len(q) for q in ids], device=model.device)
    model.eval()
    with torch.no_grad():
        out = model.generate(input_ids=query, attention_mask=query_mask, max_new_tokens=max_new_tokens,
                             pad_token_id=pad_id, eos_token_id=eos_ids,
                             **(dict(do_sample=True, **sampling) if sampling else dict(do_sample=False)))
    answer = out[:, width:]
    mask, ended = answer_mask(answer, eos_ids)
    texts = [tokenizer.decode(row[m.bool()], skip_special_tokens=True).strip()
             for row, m in zip(answer, mask)]  # EOS is a special token: decode drops it
    return Rollout([prompt_text(p) for p in prompts], texts, out, torch.cat([query_mask, mask], 1), mask, ended)


def greedy_answers(model, tokenizer, prompts: list, max_new_tokens: int, max_prompt_length: int,
                   batch_size: int) -> list[str]:
    """Greedy answers (deterministic, so before/after compare the same decoding)."""
    return [text for start in range(0, len(prompts), batch_size)
            for text in generate_rollout(model, tokenizer, prompts[start:start + batch_size], max_new_tokens,
                                         max_prompt_length).responses]


def mean_reward(scorer, prompts: list, answers: list[str]) -> float:
    """Mean score of ``answers`` to ``prompts`` (NaN/inf scores left out)."""
    import torch

    scores = torch.tensor(scorer.score([prompt_text(p) for p in prompts], answers))
    finite = scores[torch.isfinite(scores)]
    return finite.mean().item() if len(finite) else float("nan")


class PPOTrainer:
    """PPO on ``model`` (a causal LM; a fresh LoRA adapter is put on it) against ``scorer``."""

    def __init__(self, config: PPOStageConfig, model, tokenizer, scorer, prompts: list):
        import torch
        from peft import LoraConfig, get_peft_model
        from . import core

        config.check_values()
        if not prompts:
            raise UserError("PPO needs at least one prompt.")
        self.config, self.tokenizer, self.scorer, self.prompts = config, tokenizer, scorer, list(prompts)
        torch.manual_seed(config.seed)
        model = prepare_base(model)
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules="all-linear", task_type="CAUSAL_LM")
        self.model = get_peft_model(model, lora)
        hidden = model.config.get_text_config().hidden_size
        self.value_head = torch.nn.Linear(hidden, 1).to(self.model.device)  # V(s_t) from the last hidden state
        torch.nn.init.zeros_(self.value_head.weight), torch.nn.init.zeros_(self.value_head.bias)
        self.params = [p for p in self.model.parameters() if p.requires_grad] + list(self.value_head.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=config.learning_rate)
        self.kl_ctl = (core.AdaptiveKLController(config.init_kl_coef, config.target_kl, config.kl_horizon)
                       if config.adaptive_kl else core.FixedKLController(config.init_kl_coef))
        self.running = core.RunningMoments()
        self._order: list[int] = []
        self._rng = random.Random(config.seed)
        self.empty_streak, self.step_count = 0, 0

    # ---------------------------------------------------------- generation
    def generate(self, prompts: list, greedy: bool = False) -> Rollout:
        """Answer ``prompts`` in one batch, sampling with the config's settings unless ``greedy``."""
        cfg = self.config
        sampling = None if greedy else dict(temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p)
        return generate_rollout(self.model, self.tokenizer, prompts, cfg.max_new_tokens, cfg.max_prompt_length,
                                sampling)

    def forward(self, rollout: Rollout, idx=None, with_values: bool = True):
        """Log-probs of the answer tokens (at ``temperature``), values ``V(s_t)`` and the logits.

        Logits at position ``t`` predict token ``t + 1``, so the answer's T tokens are
        predicted from the last ``T + 1`` positions minus the final one. With top_k/top_p the
        log-probs still come from the whole (tempered) distribution, as is usual in RLHF code.
        """
        from . import core

        input_ids, attn = rollout.input_ids, rollout.attention_mask
        if idx is not None:
            input_ids, attn = input_ids[idx], attn[idx]
        T = rollout.mask.shape[1]
        position_ids = (attn.cumsum(1) - 1).clamp_min(0)  # as generate() numbers left-padded rows
        out = self.model(input_ids=input_ids, attention_mask=attn, position_ids=position_ids,
                         output_hidden_states=with_values, logits_to_keep=T + 1, use_cache=False)
        logits = out.logits[:, :-1].float() / self.config.temperature
        logprobs = core.logprobs_from_logits(logits, input_ids[:, -T:])
        values = None
        if with_values:
            hidden = out.hidden_states[-1][:, -T - 1:-1].float()
            values = self.value_head(hidden).squeeze(-1)
        return logprobs, values, logits

    def rollout(self, prompts: list) -> Rollout:
        """Sample answers, then score them with the policy (logp, V) and the reference (ref_logp)."""
        import torch
        from . import core

        batch = self.generate(prompts)
        with torch.no_grad():
            batch.logprobs, batch.values, logits = self.forward(batch)
            batch.entropy = core.masked_mean(core.entropy_from_logits(logits), batch.mask).item()
            with self.model.disable_adapter():  # the reference: the same weights without LoRA
                batch.ref_logprobs, _, _ = self.forward(batch, with_values=False)
        return batch

    # ---------------------------------------------------------- scores and guards
    def guarded_scores(self, batch: Rollout):
        """Score the answers and apply the guards; returns ``(kept rows, their scores, shown, warnings)``.

        NaN/inf scores drop their row (all of them: UserError). Empty answers get
        ``non_ending_penalty`` if penalties are on, else the batch's lowest score.
        ``shown`` is the score each answer was trained with (None when dropped), for the UI.
        """
        import torch
        from . import core

        cfg, warnings, n = self.config, [], len(batch.responses)
        raw = torch.tensor(self.scorer.score(batch.prompts, batch.responses), dtype=torch.float32)
        if len(raw) != n:
            raise ValueError(f"{self.scorer.name} returned {len(raw)} scores for {n} answers")
        keep = torch.isfinite(raw)
        if not keep.any():
            raise UserError(f"The reward '{self.scorer.name}' gave NaN or infinite scores for every answer in "
                            "this batch; check the reward model (or its dtype) before training on it.")
        if not keep.all():
            warnings.append(f"dropped {int((~keep).sum())} of {n} answers whose reward was NaN or infinite")
        scores = raw.clone()
        empty = torch.tensor([not text for text in batch.responses])
        if (empty & keep).any():
            floor = cfg.non_ending_penalty if cfg.penalize_non_ending else raw[keep].min().item()
            scores[empty] = floor
            warnings.append(f"{int(empty.sum())} of {n} answers were empty; scored {floor:.3g}")
        self.empty_streak = self.empty_streak + 1 if empty.all() else 0
        if self.empty_streak >= EMPTY_STREAK_WARNING:
            warnings.append(f"the policy has answered with nothing for {self.empty_streak} steps in a row")
        if cfg.penalize_non_ending:
            scores = core.non_ending_penalty(scores, batch.ended, cfg.non_ending_penalty)
        shown = [s if k else None for s, k in zip(scores.tolist(), keep.tolist())]
        return batch.select(keep), scores[keep], shown, warnings

    # ---------------------------------------------------------- one PPO iteration
    def next_prompts(self) -> list:
        """The next ``batch_size`` training prompts, reshuffled after each pass."""
        picked = []
        while len(picked) < self.config.batch_size:
            if not self._order:
                self._order = list(range(len(self.prompts)))
                self._rng.shuffle(self._order)
            picked.append(self.prompts[self._order.pop()])
        return picked

    def step(self) -> dict[str, Any]:
        """One PPO iteration (rollout, rewards, optimisation); returns its stats and sample answers."""
        import torch
        from . import core

        cfg, started = self.config, time.time()
        full = self.rollout(self.next_prompts())
        batch, scores, shown, warnings = self.guarded_scores(full)
        for text in warnings:
            log.warning("PPO step %d: %s", self.step_count + 1, text)

        # rewards per token, advantages and value targets (no gradients here)
        scaled = core.scale_scores(scores, cfg.reward_scaling, self.running)
        rewards, kl = core.per_token_rewards(scaled, batch.logprobs, batch.ref_logprobs, batch.mask,
                                             self.kl_ctl.value, cfg.kl_estimator)
        advantages, returns = core.gae(rewards, batch.values, batch.mask, cfg.gamma, cfg.lam)
        advantages = core.masked_whiten(advantages, batch.mask)

        # ppo_epochs passes of clipped policy + value updates over shuffled mini-batches
        self.model.train()
        logs: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "clipfrac": [], "approx_kl": []}
        for _ in range(cfg.ppo_epochs):
            for idx in torch.randperm(len(scores)).split(cfg.mini_batch_size):
                logprobs, values, _ = self.forward(batch, idx)
                mask = batch.mask[idx]
                pg_loss, pg_stats = core.policy_loss(logprobs, batch.logprobs[idx], advantages[idx], mask,
                                                     cfg.clip_range)
                vf_loss, _ = core.value_loss(values, batch.values[idx], returns[idx], mask, cfg.clip_range_value)
                loss = pg_loss + cfg.vf_coef * vf_loss
                if not torch.isfinite(loss):
                    raise UserError(f"The PPO loss became {loss.item()} at step {self.step_count + 1}; "
                                    "lower the learning rate (or check the rewards) and start again.")
                self.optimizer.zero_grad()
                loss.backward()
                if cfg.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm)
                self.optimizer.step()
                for key, value in (("policy_loss", pg_loss.item()), ("value_loss", vf_loss.item()),
                                   ("clipfrac", pg_stats["clipfrac"]), ("approx_kl", pg_stats["approx_kl"])):
                    logs[key].append(value)

        kl_per_answer = (kl * batch.mask).sum(1).mean().item()
        kl_coef = self.kl_ctl.value  # the coefficient this step's rewards used
        self.kl_ctl.update(kl_per_answer, len(scores))
        self.step_count += 1
        return {
            "step": self.step_count, "reward_mean": scores.mean().item(), "reward_min": scores.min().item(),
            "reward_max": scores.max().item(), "kl": kl_per_answer, "kl_coef": kl_coef, "entropy": full.entropy,
            **{key: sum(vals) / len(vals) for key, vals in logs.items()},
            "response_length_mean": full.mask.sum(1).float().mean().item(),
            "empty_share": sum(not r for r in full.responses) / len(full.responses),
            "dropped": len(full.responses) - len(batch.responses), "step_time_s": time.time() - started,
            "warnings": warnings,
            "samples": [{"prompt": p, "response": r, "reward": s}
                        for p, r, s in zip(full.prompts, full.responses, shown)],
        }

    def train(self, on_step: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> list[dict]:
        """Run ``config.steps`` iterations; ``on_step(stats)`` after each; stop early when ``should_stop()``."""
        history = []
        while self.step_count < self.config.steps and not (should_stop and should_stop()):
            history.append(self.step())
            if on_step:
                on_step(history[-1])
        return history

    # ---------------------------------------------------------- evaluation and saving
    def answer(self, prompts: list) -> list[str]:
        """Greedy answers (deterministic, so before/after compare the same decoding)."""
        cfg = self.config
        return greedy_answers(self.model, self.tokenizer, prompts, cfg.max_new_tokens, cfg.max_prompt_length,
                              cfg.batch_size)

    def evaluate(self, prompts: list) -> float:
        """Mean score of greedy answers to ``prompts`` (NaN/inf scores left out)."""
        return mean_reward(self.scorer, prompts, self.answer(prompts))

    def save(self, out_dir: str | Path) -> Path:
        """LoRA adapter + tokenizer + ``value_head.safetensors`` + ``policy.json`` (what it sits on)."""
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.value_head.state_dict().items()},
                  str(out / "value_head.safetensors"))
        write_policy_info(out, self.config.model, self.config.adapter)
        return out


# ------------------------------------------------------------------ from a config
def build_trainer(config: PPOStageConfig) -> tuple[PPOTrainer, list]:
    """Load everything ``config`` names; returns the trainer and the held-out eval prompts."""
    from ..models import load_causal_lm
    from ..scorers import make_scorer

    config.validate()
    train, held_out = split_prompts(load_prompts(config.dataset), config.eval_prompts, config.seed)
    model, tokenizer = load_causal_lm(config.model, load_in_4bit=config.load_in_4bit,
                                      adapter=config.adapter or None)
    return PPOTrainer(config, model, tokenizer, make_scorer(config.reward), train), held_out


POLICY_INFO = "policy.json"


def write_policy_info(folder: Path, base_model: str, sft_adapter: str) -> None:
    """Note beside an RL adapter what it was trained on: the base, with an SFT adapter merged in or not.

    The adapter's own config can only name one base; trained on base + merged SFT, it must be
    loaded the same way (see :func:`load_policy`), which this note makes possible.
    """
    from ..models import resolve

    # a run id names its adapter only in its own workspace: note the folder
    info = {"base_model": base_model, "sft_adapter": resolve(sft_adapter).path if sft_adapter else None,
            "note": "this adapter applies to the base with the SFT adapter merged in"}
    (Path(folder) / POLICY_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")


def load_policy(folder: str | Path):
    """A saved RL policy (PPO, GRPO, RLOO, DPO) as ``(model, tokenizer)``: base, SFT adapter merged in,
    the RL adapter on top."""
    from peft import PeftModel

    from ..models import load_causal_lm

    info = json.loads((Path(folder) / POLICY_INFO).read_text(encoding="utf-8"))
    model, tokenizer = load_causal_lm(info["base_model"], adapter=info.get("sft_adapter"))
    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    return PeftModel.from_pretrained(model, str(folder)), tokenizer
