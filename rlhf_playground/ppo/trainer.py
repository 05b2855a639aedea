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

Under ``accelerate launch`` with N processes, each samples ``batch_size / N`` of the prompts and
the update sees the whole batch (:mod:`.parallel`): one step of N processes is the step of one.

Guards, so that a run never silently trains on garbage: answers whose score is NaN or
infinite are dropped from the batch (with a warning; the step fails if all are), empty
answers are scored with the penalty (or the batch's lowest score), and a policy that
only answers with nothing for several steps is reported in the step's ``warnings``.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file

from ..data.prompts import load_prompts, prompt_text, split_prompts
from ..errors import UserError
from ..evaluation.diversity import distinct_n
from ..models import load_causal_lm
from ..models.generation import Generated, encode_prompts, generate, held_out_answers, sampling_args, stop_ids
from ..models.policy import prepare_base, write_policy_info
from ..rewards.scorers import held_out_reward, make_scorer
from . import core
from .config import PPOStageConfig
from .parallel import Processes

log = logging.getLogger(__name__)
EMPTY_STREAK_WARNING = 3  # steps in a row of nothing but empty answers before we say so
KL_RUNAWAY = 12.0  # nats per answer: past this the answers rarely still follow the prompt
CRITIC_STREAK_WARNING = 4  # steps in a row with the value head explaining less than nothing before we say so


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
    generated: Generated | None = None  # what sampling computed (logits, states), until the rollout is scored

    def select(self, keep: torch.Tensor) -> "Rollout":
        """The rows where ``keep`` is true."""
        idx = keep.nonzero().flatten()
        pick = lambda t: t[idx] if isinstance(t, torch.Tensor) else [t[i] for i in idx.tolist()]  # noqa: E731
        return Rollout(
            *(
                pick(getattr(self, name))
                for name in (
                    "prompts",
                    "responses",
                    "input_ids",
                    "attention_mask",
                    "mask",
                    "ended",
                    "logprobs",
                    "ref_logprobs",
                    "values",
                )
            ),
            entropy=self.entropy,
        )


def generate_rollout(
    model, tokenizer, prompts: list, max_new_tokens: int, max_prompt_length: int, sampling: dict | None = None
) -> Rollout:
    """Answer ``prompts`` in one left-padded batch, greedy unless ``sampling`` is given; each ends at its first EOS."""
    ids = encode_prompts(tokenizer, prompts, max_length=max_prompt_length)
    out = generate(model, tokenizer, ids, max_new_tokens, sampling, eos_ids=stop_ids(model, tokenizer), scored=True)
    texts = [prompt_text(p) for p in prompts]
    return Rollout(texts, out.texts, out.ids, out.attention_mask, out.mask, out.ended, generated=out)


class PPOTrainer:
    """PPO on ``model`` (a causal LM; a fresh LoRA adapter is put on it) against ``scorer``."""

    def __init__(self, config: PPOStageConfig, model, tokenizer, scorer, prompts: list, processes=None):
        config.check_values()
        if not prompts:
            raise UserError("PPO needs at least one prompt.")
        self.config, self.tokenizer, self.scorer, self.prompts = config, tokenizer, scorer, list(prompts)
        self.processes = processes or Processes()
        if config.batch_size % self.processes.world or config.mini_batch_size % self.processes.world:
            raise UserError(
                f"batch_size ({config.batch_size}) and mini_batch_size ({config.mini_batch_size}) must divide "
                f"among the {self.processes.world} processes: pick multiples of {self.processes.world}."
            )
        torch.manual_seed(config.seed)
        model = prepare_base(model)
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(model, lora)
        without_dropout(self.model)
        hidden = model.config.get_text_config().hidden_size
        self.value_head = torch.nn.Linear(hidden, 1).to(self.model.device)  # V(s_t) from the last hidden state
        torch.nn.init.zeros_(self.value_head.weight), torch.nn.init.zeros_(self.value_head.bias)
        policy = [p for p in self.model.parameters() if p.requires_grad]
        self.params = policy + list(self.value_head.parameters())
        self.optimizer = torch.optim.Adam(
            [
                {"params": policy},
                {"params": self.value_head.parameters(), "lr": config.value_learning_rate or config.learning_rate},
            ],
            lr=config.learning_rate,
        )
        self.kl_ctl = (
            core.AdaptiveKLController(config.init_kl_coef, config.target_kl, config.kl_horizon)
            if config.adaptive_kl
            else core.FixedKLController(config.init_kl_coef)
        )
        self.running = core.RunningMoments()
        self._order: list[int] = []
        self._rng = random.Random(config.seed)
        self.empty_streak, self.critic_streak, self.step_count = 0, 0, 0
        self.first_distinct: float | None = None  # distinct-2 of the first step's answers, for drift_warnings
        if self.processes.world > 1:  # the same weights everywhere (seeded above); different samples in each
            torch.manual_seed(config.seed + self.processes.rank)

    # ---------------------------------------------------------- generation
    def generate(self, prompts: list, greedy: bool = False) -> Rollout:
        """Answer ``prompts`` in one batch, sampling with the config's settings unless ``greedy``."""
        cfg = self.config
        sampling = None if greedy else sampling_args(cfg.temperature, cfg.top_p, cfg.top_k)
        return generate_rollout(
            self.model, self.tokenizer, prompts, cfg.max_new_tokens, cfg.max_prompt_length, sampling
        )

    def forward(self, rollout: Rollout, idx=None, with_values: bool = True):
        """Log-probs of the answer tokens (at ``temperature``) and values ``V(s_t)``, ``(B, T)`` each (0 in the
        slots after the rows' longest answer).

        Logits at position ``t`` predict token ``t + 1``, so the answer's T tokens are
        predicted from the last ``T + 1`` positions minus the final one. With top_k/top_p the
        log-probs still come from the whole (tempered) distribution, as is usual in RLHF code.
        Columns that no row of these uses are not computed: the left padding before their longest prompt
        and the answer slots after their longest answer (a mini-batch's rows are shorter than the batch's).
        """
        input_ids, attn, mask = rollout.input_ids, rollout.attention_mask, rollout.mask
        if idx is not None:
            input_ids, attn, mask = input_ids[idx], attn[idx], mask[idx]
        T = mask.shape[1]
        first = int(attn.any(0).int().argmax())  # the first column some row uses
        answered = int(mask.any(0).nonzero().max()) + 1 if mask.any() else 1  # answer slots some row uses
        end = input_ids.shape[1] - T + answered
        input_ids, attn = input_ids[:, first:end], attn[:, first:end]
        position_ids = (attn.cumsum(1) - 1).clamp_min(0)  # as generate() numbers left-padded rows
        out = self.model(
            input_ids=input_ids,
            attention_mask=attn,
            position_ids=position_ids,
            output_hidden_states=with_values,
            logits_to_keep=answered + 1,  # the head's input is made contiguous (models.contiguous_head_input)
            use_cache=False,
        )
        logits = out.logits[:, :-1].float() / self.config.temperature
        logprobs = core.logprobs_from_logits(logits, input_ids[:, -answered:])
        values = None
        if with_values:
            hidden = out.hidden_states[-1][:, -answered - 1 : -1].float()
            values = F.pad(self.value_head(hidden).squeeze(-1), (0, T - answered))
        return F.pad(logprobs, (0, T - answered)), values

    def rollout(self, prompts: list, greedy: bool = False) -> Rollout:
        """Sample (or with ``greedy``, pick) answers, then score them with the policy (logp, V) and the
        reference (ref_logp).

        The policy's log-probs and values come from what sampling computed anyway (each token's logits and
        the state before it), so the policy's only extra pass is in the update; the reference needs one.
        """
        batch = self.generate(prompts, greedy)
        sampled, batch.generated = batch.generated, None
        with torch.no_grad():
            logits = sampled.logits.float() / self.config.temperature
            batch.logprobs = core.logprobs_from_logits(logits, batch.input_ids[:, -batch.mask.shape[1] :])
            batch.values = self.value_head(sampled.hidden.float()).squeeze(-1)
            batch.entropy = core.masked_mean(core.entropy_from_logits(logits), batch.mask).item()
            with self.model.disable_adapter():  # the reference: the same weights without LoRA
                batch.ref_logprobs, _ = self.forward(batch, with_values=False)
        return batch

    # ---------------------------------------------------------- scores and guards
    def guarded_scores(self, batch: Rollout):
        """Score the answers and apply the guards; returns ``(kept rows, their scores, shown, warnings)``.

        NaN/inf scores drop their row (all of them: UserError). Empty answers get
        ``non_ending_penalty`` if penalties are on, else the batch's lowest score.
        ``shown`` is the score each answer was trained with (None when dropped), for the UI.
        """
        cfg, warnings, n = self.config, [], len(batch.responses)
        raw = reward_scores(self.scorer, batch.prompts, batch.responses, batch.input_ids.device)
        keep = torch.isfinite(raw)
        if not keep.any():
            raise UserError(
                f"The reward '{self.scorer.name}' gave NaN or infinite scores for every answer in "
                "this batch; check the reward model (or its dtype) before training on it."
            )
        if not keep.all():
            warnings.append(f"dropped {int((~keep).sum())} of {n} answers whose reward was NaN or infinite")
        scores = raw.clone()
        empty = torch.tensor([not text for text in batch.responses], device=raw.device)
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
        started = time.time()
        full = self.rollout(self.processes.share(self.next_prompts()))
        batch, scores, shown, warnings = self.guarded_scores(full)
        for text in warnings:
            log.warning("PPO step %d: %s", self.step_count + 1, text)
        logs, critic, kl_per_answer, n_answers = self.update(batch, scores)
        kl_coef = self.kl_ctl.value  # the coefficient this step's rewards used
        self.kl_ctl.update(kl_per_answer, n_answers)
        self.step_count += 1
        distinct = distinct_n(full.responses)
        warnings += self.drift_warnings(kl_per_answer, distinct) + self.critic_warnings(critic["explained_variance"])
        total = self.processes.sum
        return {
            "step": self.step_count,
            "reward_mean": (total(scores.sum()) / max(n_answers, 1)).item(),
            "reward_min": scores.min().item(),
            "reward_max": scores.max().item(),
            "kl": kl_per_answer,
            "kl_coef": kl_coef,
            "entropy": full.entropy,
            "distinct_2": distinct,
            **critic,
            **{key: sum(vals) / len(vals) if vals else float("nan") for key, vals in logs.items()},
            "response_length_mean": full.mask.sum(1).float().mean().item(),
            "empty_share": sum(not r for r in full.responses) / len(full.responses),
            "dropped": len(full.responses) - len(batch.responses),
            "step_time_s": time.time() - started,
            "warnings": warnings,
            "samples": [
                {"prompt": p, "response": r, "reward": s} for p, r, s in zip(full.prompts, full.responses, shown)
            ],
        }

    def update(self, batch: Rollout, scores: torch.Tensor) -> tuple[dict[str, list[float]], dict, float, int]:
        """Rewards, advantages and ``ppo_epochs`` passes of clipped policy + value updates over shuffled
        mini-batches; returns the losses' logs, the critic's figures before the update (explained variance,
        mean value, mean return), the KL per answer and the number of answers (whole batch)."""
        cfg, total = self.config, self.processes.sum
        n_answers = int(total(scores.new_tensor(float(len(scores)))).item())
        # rewards per token, advantages and value targets (no gradients here)
        scaled = core.scale_scores(scores, cfg.reward_scaling, self.running, reduce=total)
        rewards, kl = core.per_token_rewards(
            scaled, batch.logprobs, batch.ref_logprobs, batch.mask, self.kl_ctl.value, cfg.kl_estimator
        )
        advantages, returns = core.gae(rewards, batch.values, batch.mask, cfg.gamma, cfg.lam)
        critic = {
            "explained_variance": core.explained_variance(batch.values, returns, batch.mask, reduce=total).item(),
            "value_mean": core.masked_mean(batch.values, batch.mask, reduce=total).item(),
            "return_mean": core.masked_mean(returns, batch.mask, reduce=total).item(),
        }
        advantages = core.masked_whiten(advantages, batch.mask, reduce=total)

        self.model.train()  # dropout is off for good (see without_dropout): train() only matters to checkpointing
        logs: dict[str, list[float]] = {
            "policy_loss": [],
            "value_loss": [],
            "clipfrac": [],
            "approx_kl": [],
            "ratio_mean": [],
        }
        pieces = cfg.batch_size // cfg.mini_batch_size  # the same number of updates in every process
        for _ in range(cfg.ppo_epochs):
            for idx in torch.randperm(len(scores), device=scores.device).tensor_split(pieces):
                if not len(idx) and self.processes.world == 1:
                    continue
                self.optimizer.zero_grad()
                tokens = total(batch.mask[idx].sum())  # the mini-batch's tokens in every process
                if len(idx):  # a process whose share lost rows to NaN rewards may have none here
                    pg_loss, vf_loss, pg_stats = self.losses(batch, idx, advantages, returns, tokens)
                    (pg_loss + cfg.vf_coef * vf_loss).backward()
                    pg_stats.update(policy_loss=pg_loss.item(), value_loss=vf_loss.item())
                    for key, value in pg_stats.items():
                        logs[key].append(value)
                self.processes.sum_gradients(self.params)
                if cfg.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm)
                self.optimizer.step()
        kl_per_answer = (total((kl * batch.mask).sum()) / max(n_answers, 1)).item()
        return logs, critic, kl_per_answer, n_answers

    def losses(self, batch: Rollout, idx: torch.Tensor, advantages, returns, tokens: torch.Tensor):
        """The clipped policy and value losses of the mini-batch ``idx``, divided by ``tokens`` (its token
        count in every process); UserError when they are not finite."""
        cfg = self.config
        logprobs, values = self.forward(batch, idx)
        mask = batch.mask[idx]
        pg_loss, pg_stats = core.policy_loss(
            logprobs, batch.logprobs[idx], advantages[idx], mask, cfg.clip_range, tokens
        )
        vf_loss, _ = core.value_loss(values, batch.values[idx], returns[idx], mask, cfg.clip_range_value, tokens)
        loss = pg_loss + cfg.vf_coef * vf_loss
        if not torch.isfinite(loss):
            raise UserError(
                f"The PPO loss became {loss.item()} at step {self.step_count + 1}; "
                "lower the learning rate (or check the rewards) and start again."
            )
        return pg_loss, vf_loss, pg_stats

    def drift_warnings(self, kl_per_answer: float, distinct: float | None) -> list[str]:
        """Sentences for a policy that is running away from the reference or collapsing onto one reply:
        KL above ``KL_RUNAWAY`` nats per answer, or distinct-2 below half of the first step's."""
        found = []
        if self.first_distinct is None:
            self.first_distinct = distinct
        elif distinct is not None and self.first_distinct and distinct < 0.5 * self.first_distinct:
            found.append(
                f"answers are half as varied as at the start (distinct-2 {distinct:.2f}, was "
                f"{self.first_distinct:.2f}): the policy may be collapsing onto stock phrases; raise init_kl_coef "
                "or turn on adaptive_kl"
            )
        if kl_per_answer > KL_RUNAWAY:
            found.append(
                f"the KL to the reference is {kl_per_answer:.1f} nats per answer: the policy has moved far from "
                "where it started; raise init_kl_coef or turn on adaptive_kl"
            )
        return found

    def critic_warnings(self, explained_variance: float) -> list[str]:
        """A sentence when the value head has explained less of the returns than their mean would, for
        ``CRITIC_STREAK_WARNING`` steps in a row: its values then add noise to the advantages."""
        self.critic_streak = self.critic_streak + 1 if explained_variance < 0 else 0
        if self.critic_streak < CRITIC_STREAK_WARNING:
            return []
        return [
            f"the critic isn't learning: its explained variance has been below 0 for {self.critic_streak} steps "
            f"(now {explained_variance:.2f}); raise vf_coef or the learning rate"
        ]

    def train(
        self, on_step: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None
    ) -> list[dict]:
        """Run ``config.steps`` iterations; ``on_step(stats)`` after each; stop early when ``should_stop()``."""
        history = []
        while self.step_count < self.config.steps and not self.processes.any(bool(should_stop and should_stop())):
            history.append(self.step())
            if on_step:
                on_step(history[-1])
        return history

    # ---------------------------------------------------------- evaluation and saving
    def answer(self, prompts: list) -> list[str]:
        """Greedy answers to held-out ``prompts``, made as every RL method's evaluation makes them."""
        return held_out_answers(self.model, self.tokenizer, prompts, self.config.max_new_tokens)

    def evaluate(self, prompts: list) -> float:
        """Mean score of greedy answers to held-out ``prompts``, measured as every RL method measures it."""
        return held_out_reward(self.model, self.tokenizer, self.scorer, prompts, self.config.max_new_tokens)

    def save(self, out_dir: str | Path) -> Path:
        """LoRA adapter + tokenizer + ``value_head.safetensors`` + ``policy.json`` (what it sits on)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in self.value_head.state_dict().items()},
            str(out / "value_head.safetensors"),
        )
        write_policy_info(out, self.config.model, self.config.adapter)
        return out


# ------------------------------------------------------------------ helpers
def without_dropout(model) -> None:
    """Turn every dropout of ``model`` off for good, LoRA's and the base's (as TRL does for its policies).

    PPO's ratio compares the update's log-probs with the rollout's, which are taken without dropout: with
    dropout in the update the ratio is not 1 even before the policy has changed, and clipping bites at random.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if isinstance(getattr(module, "attention_dropout", None), float):  # attention that reads a float (Llama)
            module.attention_dropout = 0.0


def reward_scores(scorer, prompts: list[str], responses: list[str], device: torch.device) -> torch.Tensor:
    """``scorer``'s scores for ``responses`` as float32 on ``device`` (the policy's), one per answer.

    A reward that gives another number of scores, or a tensor on a device other than the CPU and the
    policy's, is a UserError that names it.
    """
    raw = scorer.score(prompts, responses)
    if isinstance(raw, torch.Tensor) and raw.device.type not in ("cpu", device.type):
        raise UserError(
            f"The reward '{scorer.name}' returned its scores on {raw.device}, but the policy is on {device}: "
            "return a list of numbers or a tensor on the CPU."
        )
    scores = torch.as_tensor(raw, dtype=torch.float32, device=device)
    if scores.shape != (len(responses),):
        got = scores.numel() if scores.dim() <= 1 else f"a {tuple(scores.shape)} table of"
        raise UserError(
            f"The reward '{scorer.name}' returned {got} scores for {len(responses)} answers; a reward must give "
            "one number per answer."
        )
    return scores


# ------------------------------------------------------------------ from a config
def build_trainer(config: PPOStageConfig) -> tuple[PPOTrainer, list]:
    """Load everything ``config`` names; returns the trainer and the held-out eval prompts.

    ``config`` has been validated already: by the app before the job started, or by the job itself.
    """
    train, held_out = split_prompts(load_prompts(config.dataset), config.eval_prompts, config.seed)
    processes = Processes()  # first: under accelerate launch on GPUs, it picks this process's GPU
    model, tokenizer = load_causal_lm(
        config.model,
        load_in_4bit=config.load_in_4bit,
        adapter=config.adapter or None,
        compute_dtype=config.compute_dtype,
    )
    return PPOTrainer(config, model, tokenizer, make_scorer(config.reward), train, processes), held_out
