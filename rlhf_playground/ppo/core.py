"""PPO math for causal LMs as pure functions on padded ``(batch, T)`` tensors.

Every tensor argument named ``mask`` is 1 on response tokens and 0 on padding;
padding never contributes to a mean, a sum or a statistic. A ``reduce`` argument sums a tensor
over the processes of a data-parallel job (:mod:`.parallel`), so that a statistic or a loss's
token count covers the whole batch; without it, the batch is the one at hand. Notation used below:
``M = sum_t mask_t``, ``r_t = exp(logp_t - old_logp_t)`` (policy ratio),
``eps`` = clip range. Nothing here touches a model; the trainer calls these.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

Reduce = Callable[[torch.Tensor], torch.Tensor] | None


def _total(value: torch.Tensor, reduce: Reduce) -> torch.Tensor:
    return value if reduce is None else reduce(value)


# ----------------------------------------------------------------- masked statistics
def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None, reduce: Reduce = None) -> torch.Tensor:
    """``sum(x * mask) / sum(mask)`` over all entries (of every process with ``reduce``), or along ``dim``."""
    mask = mask.to(x.dtype)
    if dim is None:
        return _total((x * mask).sum(), reduce) / _total(mask.sum(), reduce).clamp_min(1e-8)
    return (x * mask).sum(dim) / mask.sum(dim).clamp_min(1e-8)


def masked_var(x: torch.Tensor, mask: torch.Tensor, unbiased: bool = True, reduce: Reduce = None) -> torch.Tensor:
    """``var = sum(mask * (x - mean)^2) / M``, times Bessel's ``M / (M - 1)`` if ``unbiased``.

    With a single masked entry the unbiased form is undefined; the biased value (0) is returned.
    """
    mask = mask.to(x.dtype)
    var = masked_mean((x - masked_mean(x, mask, reduce=reduce)) ** 2, mask, reduce=reduce)
    n = _total(mask.sum(), reduce)
    if unbiased and n > 1:
        var = var * n / (n - 1)
    return var


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, reduce: Reduce = None) -> torch.Tensor:
    """``(x - mean) / sqrt(var + 1e-8)`` with masked mean/var; padding is set to 0.

    ``shift_mean=False`` adds the mean back (only the scale changes), which keeps the
    sign of the values meaningful. The trainer whitens advantages, and scores with
    ``reward_scaling="whiten"``, both with the shift.
    """
    mask = mask.to(x.dtype)
    mean, var = masked_mean(x, mask, reduce=reduce), masked_var(x, mask, reduce=reduce)
    out = (x - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        out = out + mean
    return out * mask


# ----------------------------------------------------------------- KL and rewards
def kl_per_token(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, estimator: str = "k1") -> torch.Tensor:
    """Per-token estimate of KL(policy || reference) from tokens sampled from the policy.

    ``k1 = logp - ref_logp`` (unbiased, can be negative per token);
    ``k3 = (rho - 1) - log rho`` with ``rho = exp(ref_logp - logp)`` (unbiased, always >= 0).
    """
    if estimator == "k1":
        return logprobs - ref_logprobs
    if estimator == "k3":
        log_rho = ref_logprobs - logprobs
        return torch.expm1(log_rho) - log_rho
    raise ValueError(f"Unknown KL estimator {estimator!r}; use 'k1' or 'k3'.")


def per_token_rewards(scores, logprobs, ref_logprobs, mask, kl_coef: float, estimator: str = "k1"):
    """Turn one score per sequence into a reward per token.

    ``reward_t = -kl_coef * kl_t``, plus ``score`` at the last token with ``mask == 1``.
    Every row must hold at least one response token. Returns ``(rewards, kl)``, both 0 on padding.
    """
    mask = mask.to(logprobs.dtype)
    kl = torch.where(mask > 0, kl_per_token(logprobs, ref_logprobs, estimator), 0.0)  # padding: any values
    rewards = -kl_coef * kl
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    last = (positions * mask).argmax(dim=1)  # index of the last real token in each row
    rewards[torch.arange(mask.shape[0], device=mask.device), last] += scores.to(rewards.dtype)
    return rewards, kl


# ----------------------------------------------------------------- advantages
def gae(rewards, values, mask, gamma: float = 1.0, lam: float = 0.95):
    """Generalised Advantage Estimation, computed backwards over each row.

    ``delta_t = r_t + gamma * V_{t+1} - V_t``; ``A_t = delta_t + gamma * lam * A_{t+1}``,
    where ``V_{t+1}`` and ``A_{t+1}`` count as 0 when position ``t+1`` is padding (or past
    the end): the episode ends at its last real token. ``returns = A + V`` (the value
    targets). Both outputs are 0 on padding, so rows may have different lengths.
    """
    mask = mask.to(values.dtype)
    batch, T = rewards.shape
    advantages = torch.zeros_like(rewards)
    next_adv = rewards.new_zeros(batch)
    for t in reversed(range(T)):
        next_mask = mask[:, t + 1] if t + 1 < T else rewards.new_zeros(batch)
        next_value = values[:, t + 1] * next_mask if t + 1 < T else rewards.new_zeros(batch)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        next_adv = delta + gamma * lam * next_mask * next_adv
        advantages[:, t] = next_adv
    advantages = advantages * mask
    returns = (advantages + values) * mask
    return advantages, returns


def explained_variance(values, returns, mask, reduce: Reduce = None) -> torch.Tensor:
    """How much of the returns the value head foresaw: ``1 - var(R - V) / var(R)`` over the masked tokens.

    1 is a perfect critic, 0 one no better than the returns' mean, below 0 one that adds noise to the
    advantages. NaN when the returns don't vary (nothing to explain).
    """
    var_returns = masked_var(returns, mask, unbiased=False, reduce=reduce)
    if var_returns == 0:
        return returns.new_tensor(float("nan"))
    return 1 - masked_var(returns - values, mask, unbiased=False, reduce=reduce) / var_returns


# ----------------------------------------------------------------- losses
def _tokens(mask: torch.Tensor, tokens: torch.Tensor | None) -> torch.Tensor:
    return (mask.sum() if tokens is None else tokens.to(mask.dtype)).clamp_min(1e-8)


def policy_loss(logprobs, old_logprobs, advantages, mask, clip_range: float = 0.2, tokens: torch.Tensor | None = None):
    """Clipped surrogate: ``mean_mask( max(-A * r, -A * clip(r, 1 - eps, 1 + eps)) )``.

    ``tokens``: what the sum is divided by instead of ``M``, the mini-batch's token count over all the
    processes of a data-parallel job: the gradients summed over them are then the whole mean's.

    Stats (python floats): ``clipfrac`` = share of tokens where the clipped term is chosen;
    ``approx_kl`` = ``mean_mask((r - 1) - log r)`` (the k3 estimate of KL(old || new),
    >= 0 and unbiased); ``ratio_mean`` = ``mean_mask(r)``.
    """
    mask = mask.to(logprobs.dtype)
    log_ratio = (logprobs - old_logprobs) * mask  # padding -> ratio 1, never overflows
    ratio = torch.exp(log_ratio)
    loss_unclipped = -advantages * ratio
    loss_clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = (torch.maximum(loss_unclipped, loss_clipped) * mask).sum() / _tokens(mask, tokens)
    with torch.no_grad():
        stats = {
            "clipfrac": masked_mean((loss_clipped > loss_unclipped).to(mask.dtype), mask).item(),
            "approx_kl": masked_mean((ratio - 1) - log_ratio, mask).item(),
            "ratio_mean": masked_mean(ratio, mask).item(),
        }
    return loss, stats


def value_loss(values, old_values, returns, mask, clip_range_value: float = 0.2, tokens: torch.Tensor | None = None):
    """Clipped value loss: ``0.5 * mean_mask( max((v - R)^2, (v_clip - R)^2) )``.

    ``v_clip = v_old + clip(v - v_old, -eps, eps)`` keeps the value head near the values
    seen at rollout time; ``tokens`` as in :func:`policy_loss`. Stats: ``vf_clipfrac`` = share of tokens
    where the clipped term wins.
    """
    mask = mask.to(values.dtype)
    v_clipped = old_values + torch.clamp(values - old_values, -clip_range_value, clip_range_value)
    err_unclipped = (values - returns) ** 2
    err_clipped = (v_clipped - returns) ** 2
    loss = 0.5 * (torch.maximum(err_unclipped, err_clipped) * mask).sum() / _tokens(mask, tokens)
    with torch.no_grad():
        stats = {"vf_clipfrac": masked_mean((err_clipped > err_unclipped).to(mask.dtype), mask).item()}
    return loss, stats


# ----------------------------------------------------------------- logits helpers
def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy per position: ``H = logsumexp(z) - sum_i softmax(z)_i * z_i`` (no log of 0)."""
    logits = logits.float()
    return torch.logsumexp(logits, dim=-1) - (F.softmax(logits, dim=-1) * logits).sum(-1)


def logprobs_from_logits(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """``log softmax(z)[token]`` at each position, in float32: ``(B, T, V), (B, T) -> (B, T)``."""
    return F.log_softmax(logits.float(), dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


# ----------------------------------------------------------------- KL coefficient
class AdaptiveKLController:
    """Proportional controller that steers the measured KL towards ``target``.

    ``error = clip(kl / target - 1, -0.2, 0.2)``; ``coef *= 1 + error * n_steps / horizon``.
    Too much KL raises the penalty, too little lowers it. The coefficient is ``.value``.
    """

    def __init__(self, init_kl_coef: float, target: float, horizon: float):
        self.value, self.target, self.horizon = float(init_kl_coef), float(target), float(horizon)

    def update(self, current_kl: float, n_steps: int) -> float:
        error = min(max(float(current_kl) / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_steps / self.horizon
        return self.value


class FixedKLController:
    """Constant KL coefficient with the same interface; ``update`` changes nothing."""

    def __init__(self, kl_coef: float):
        self.value = float(kl_coef)

    def update(self, current_kl: float, n_steps: int) -> float:
        return self.value


# ----------------------------------------------------------------- score scaling
class RunningMoments:
    """Mean and variance of every score seen so far, merged batch by batch.

    Chan et al.'s parallel update, for a batch with ``n`` items, mean ``m_b``, biased var ``v_b``:
    ``delta = m_b - mean``, ``N = count + n``, ``mean += delta * n / N``,
    ``var = (var * count + v_b * n + delta^2 * count * n / N) / N`` (population variance).
    ``std`` is the sample std (``ddof=1``); it is 1.0 until two scores have been seen.
    """

    def __init__(self):
        self.mean, self.var, self.count = 0.0, 0.0, 0

    def update(self, x: torch.Tensor, reduce: Reduce = None) -> None:
        x = x.detach().double().flatten()
        n = int(_total(x.new_tensor(float(x.numel())), reduce).item())
        if n == 0:
            return
        batch_mean = _total(x.sum(), reduce).item() / n
        batch_var = _total(((x - batch_mean) ** 2).sum(), reduce).item() / n
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean += delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total

    @property
    def std(self) -> float:
        return math.sqrt(self.var * self.count / (self.count - 1)) if self.count > 1 else 1.0


def scale_scores(
    scores: torch.Tensor, mode: str = "none", running: RunningMoments | None = None, reduce: Reduce = None
):
    """Normalise one score per sequence before it becomes a reward.

    ``"none"``: unchanged. ``"whiten"``: ``(s - mean) / std`` over this batch.
    ``"running"``: ``running.update(s)`` then ``s / running.std`` -- the scale is tracked
    across batches and the mean is *not* removed, so a good answer keeps a positive score.
    """
    if mode == "none":
        return scores
    if mode == "whiten":
        return masked_whiten(scores, torch.ones_like(scores), reduce=reduce)
    if mode == "running":
        if running is None:
            raise ValueError("scale_scores(mode='running') needs a RunningMoments instance.")
        running.update(scores, reduce)
        return scores / (running.std + 1e-8)
    raise ValueError(f"Unknown score scaling {mode!r}; use 'none', 'whiten' or 'running'.")


def non_ending_penalty(scores: torch.Tensor, ended: torch.Tensor, penalty: float) -> torch.Tensor:
    """Replace the score of every response that never produced EOS by ``penalty``.

    Substituted, not added: a truncated answer gets the same fixed (negative) score however
    well the reward model liked its half-sentence, so rambling never pays.
    """
    return torch.where(ended.bool(), scores, torch.full_like(scores, float(penalty)))
