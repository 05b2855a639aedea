"""Hand-computed checks for rlhf_playground.ppo.core.

Every expected number below is worked out in the comments next to it, so a wrong
sign, a missing mask or an off-by-one in a loop shows up as a failed assertion.
Padding positions are filled with large junk values on purpose: if they leak into
a result, the numbers are far off.
"""

import math

import numpy as np
import pytest
import torch

from rlhf_playground.ppo import core

T = torch.tensor


def close(actual, expected, tol=1e-5):
    actual = torch.as_tensor(actual, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert torch.allclose(actual, expected, atol=tol, rtol=0), (actual, expected)


# ------------------------------------------------------------------ masked statistics
X = T([[1.0, 2.0, 100.0], [4.0, -50.0, 70.0]])
MASK = T([[1, 1, 0], [1, 0, 0]])  # real entries: 1, 2, 4


def test_masked_mean_all_and_per_row():
    # (1 + 2 + 4) / 3 = 7/3
    close(core.masked_mean(X, MASK), 7 / 3)
    # row 0: (1 + 2) / 2 = 1.5 ; row 1: 4 / 1 = 4
    close(core.masked_mean(X, MASK, dim=1), [1.5, 4.0])
    # a bool mask means the same thing
    close(core.masked_mean(X, MASK.bool()), 7 / 3)


def test_masked_var_biased_and_unbiased():
    # mean 7/3 ; deviations -4/3, -1/3, 5/3 ; squares 16/9 + 1/9 + 25/9 = 42/9 = 14/3
    # biased: (14/3) / 3 = 14/9 ; unbiased: (14/3) / 2 = 7/3
    close(core.masked_var(X, MASK, unbiased=False), 14 / 9)
    close(core.masked_var(X, MASK, unbiased=True), 7 / 3)


def test_masked_whiten_uses_masked_entries_only():
    out = core.masked_whiten(X, MASK)
    # first entry: (1 - 7/3) / sqrt(7/3) = (-4/3) / 1.527525 = -0.872872
    close(out[0, 0], -0.872872)
    close(core.masked_mean(out, MASK), 0.0)
    close(core.masked_var(out, MASK), 1.0, tol=1e-4)
    close(out[0, 2], 0.0)  # padding is zeroed
    close(out[1, 1:], [0.0, 0.0])
    # shift_mean=False: same scale, mean 7/3 kept -> -0.872872 + 7/3 = 1.460461
    kept = core.masked_whiten(X, MASK, shift_mean=False)
    close(kept[0, 0], 1.460461)
    close(core.masked_mean(kept, MASK), 7 / 3)
    close(core.masked_var(kept, MASK), 1.0, tol=1e-4)


# ------------------------------------------------------------------ KL
def test_kl_k1_and_k3():
    logp, ref = T([-1.0, -2.0]), T([-1.5, -1.0])
    # k1 = logp - ref = [-1 + 1.5, -2 + 1] = [0.5, -1.0]
    close(core.kl_per_token(logp, ref, "k1"), [0.5, -1.0])
    # log rho = ref - logp = [-0.5, 1.0] ; rho = [0.606531, 2.718282]
    # k3 = (rho - 1) - log rho = [-0.393469 + 0.5, 1.718282 - 1.0] = [0.106531, 0.718282]
    close(core.kl_per_token(logp, ref, "k3"), [0.106531, 0.718282])
    with pytest.raises(ValueError):
        core.kl_per_token(logp, ref, "k9")


def test_per_token_rewards_two_rows_of_different_length():
    mask = T([[1, 1, 1], [1, 1, 0]])
    logp = T([[-1.0, -1.0, -1.0], [-2.0, -2.0, 9.0]])  # 9.0 is padding junk
    ref = T([[-1.5, -1.0, -0.5], [-1.0, -3.0, 0.0]])
    scores = T([2.0, -1.0])
    rewards, kl = core.per_token_rewards(scores, logp, ref, mask, kl_coef=0.1)
    # k1 row 0: [0.5, 0, -0.5] ; row 1: [-1, 1, (pad) 0]
    close(kl, [[0.5, 0.0, -0.5], [-1.0, 1.0, 0.0]])
    # reward = -0.1 * kl, + score at the last real token (index 2 in row 0, index 1 in row 1)
    # row 0: [-0.05, 0, 0.05 + 2.0] ; row 1: [0.1, -0.1 - 1.0, 0]
    close(rewards, [[-0.05, 0.0, 2.05], [0.1, -1.1, 0.0]])


def test_k3_rewards_stay_finite_whatever_the_padding_holds():
    """k3's exp of a padding slot's log-ratio (here 0 - (-200)) overflows float32: padding is left out before."""
    mask = T([[1, 1, 0]])
    logp, ref = T([[-1.0, -1.0, -200.0]]), T([[-1.5, -1.0, 0.0]])
    rewards, kl = core.per_token_rewards(T([1.0]), logp, ref, mask, kl_coef=0.1, estimator="k3")
    # k3 at t=0: rho = exp(-0.5), (rho - 1) - log rho = -0.393469 + 0.5 = 0.106531; t=1: 0
    close(kl, [[0.106531, 0.0, 0.0]])
    close(rewards, [[-0.0106531, 1.0, 0.0]])


# ------------------------------------------------------------------ GAE
def test_gae_one_row_by_hand():
    rewards, values = T([[1.0, 0.0, 2.0]]), T([[0.5, 1.0, 1.5]])
    adv, ret = core.gae(rewards, values, torch.ones(1, 3), gamma=0.9, lam=0.8)
    # gamma * lam = 0.72 ; the value beyond the end is 0
    # t=2: delta = 2 + 0.9*0   - 1.5 = 0.5  ; A2 = 0.5
    # t=1: delta = 0 + 0.9*1.5 - 1.0 = 0.35 ; A1 = 0.35 + 0.72*0.5  = 0.71
    # t=0: delta = 1 + 0.9*1.0 - 0.5 = 1.4  ; A0 = 1.4  + 0.72*0.71 = 1.9112
    close(adv, [[1.9112, 0.71, 0.5]])
    # returns = A + V = [2.4112, 1.71, 2.0]
    close(ret, [[2.4112, 1.71, 2.0]])


def test_gae_right_padding_ends_each_row_at_its_last_token():
    rewards = T([[1.0, 0.0, 2.0], [1.0, 2.0, 99.0]])
    values = T([[0.5, 1.0, 1.5], [0.5, 1.0, 7.0]])  # 99 and 7 are padding junk
    mask = T([[1, 1, 1], [1, 1, 0]])
    adv, ret = core.gae(rewards, values, mask, gamma=0.9, lam=0.8)
    # row 0 is the example above. Row 1 ends at t=1, so V_2 counts as 0:
    # t=1: delta = 2 + 0.9*0   - 1.0 = 1.0 ; A1 = 1.0
    # t=0: delta = 1 + 0.9*1.0 - 0.5 = 1.4 ; A0 = 1.4 + 0.72*1.0 = 2.12
    close(adv, [[1.9112, 0.71, 0.5], [2.12, 1.0, 0.0]])
    close(ret, [[2.4112, 1.71, 2.0], [2.62, 2.0, 0.0]])


def test_gae_with_gamma_lam_one_is_reward_to_go_minus_value():
    # gamma = lam = 1: A_t = sum_{k>=t} r_k - V_t ; rewards-to-go of [1, 0, 2] are [3, 2, 2]
    adv, ret = core.gae(T([[1.0, 0.0, 2.0]]), T([[0.5, 1.0, 1.5]]), torch.ones(1, 3), 1.0, 1.0)
    close(adv, [[2.5, 1.0, 0.5]])
    close(ret, [[3.0, 2.0, 2.0]])


# ------------------------------------------------------------------ policy loss
def test_explained_variance_by_hand():
    returns = torch.tensor([[1.0, 3.0, 9.0]])
    mask = torch.tensor([[1, 1, 0]])  # the third token is padding: var(R) over [1, 3] = 1
    assert core.explained_variance(torch.tensor([[1.0, 3.0, 0.0]]), returns, mask).item() == 1.0  # foresaw all
    assert core.explained_variance(torch.tensor([[2.0, 2.0, 0.0]]), returns, mask).item() == 0.0  # only the mean
    # errors [1, -1] around their mean 0: var 1, as much as the returns' own: 1 - 1/1 = 0; then [-2, 2]: var 4
    assert core.explained_variance(torch.tensor([[0.0, 4.0, 5.0]]), returns, mask).item() == 0.0
    assert core.explained_variance(torch.tensor([[3.0, 1.0, 5.0]]), returns, mask).item() == -3.0
    assert math.isnan(core.explained_variance(torch.zeros(1, 3), torch.ones(1, 3), mask).item())  # nothing to explain


def test_policy_loss_clip_branches_and_stats():
    # clip range 0.2 -> ratios clipped into [0.8, 1.2]; the last column is padding whose
    # log-ratio of 100 would overflow exp() to inf (and the loss to nan) if it were not masked
    log_ratio = T([[math.log(1.1), math.log(1.5), math.log(0.5), math.log(0.5), math.log(1.5), 100.0]])
    adv = T([[1.0, 1.0, 1.0, -1.0, -1.0, 100.0]])
    mask = T([[1, 1, 1, 1, 1, 0]])
    old = torch.full((1, 6), -1.0)
    new = (old + log_ratio).requires_grad_()
    loss, stats = core.policy_loss(new, old, adv, mask, clip_range=0.2)
    # token  r    A   -A*r   -A*clip(r)  max    clipped term chosen?
    #  a    1.1  +1   -1.1    -1.1       -1.1   no (inside range)
    #  b    1.5  +1   -1.5    -1.2       -1.2   yes
    #  c    0.5  +1   -0.5    -0.8       -0.5   no (pessimistic bound keeps the worse term)
    #  d    0.5  -1   +0.5    +0.8       +0.8   yes
    #  e    1.5  -1   +1.5    +1.2       +1.5   no
    # loss = (-1.1 - 1.2 - 0.5 + 0.8 + 1.5) / 5 = -0.5 / 5 = -0.1
    close(loss.detach(), -0.1)
    close(stats["clipfrac"], 2 / 5)
    # ratio mean = (1.1 + 1.5 + 0.5 + 0.5 + 1.5) / 5 = 5.1 / 5 = 1.02
    close(stats["ratio_mean"], 1.02)
    # approx_kl = mean((r - 1) - ln r):
    #   1.1: 0.1 - 0.095310 = 0.004690 ; 1.5: 0.5 - 0.405465 = 0.094535 (twice)
    #   0.5: -0.5 + 0.693147 = 0.193147 (twice) ; sum 0.580054 ; / 5 = 0.116011
    close(stats["approx_kl"], 0.116011)
    # gradient wrt logp: -A*r/5 where the unclipped term is active, 0 where clipped or padding
    #   a: -1.1/5 = -0.22 ; b: 0 ; c: -0.5/5 = -0.1 ; d: 0 ; e: +1.5/5 = 0.3 ; pad: 0
    loss.backward()
    close(new.grad, [[-0.22, 0.0, -0.1, 0.0, 0.3, 0.0]])


def test_policy_loss_equals_minus_mean_advantage_when_on_policy():
    # r = 1 everywhere: loss = -mean_mask(A) = -(2 - 1) / 2 = -0.5 ; nothing clipped, no KL
    logp = T([[-0.3, -2.0, 5.0]])
    loss, stats = core.policy_loss(logp, logp.clone(), T([[2.0, -1.0, 9.0]]), T([[1, 1, 0]]))
    close(loss, -0.5)
    assert stats["clipfrac"] == 0.0 and abs(stats["approx_kl"]) < 1e-7
    close(stats["ratio_mean"], 1.0)


# ------------------------------------------------------------------ value loss
def test_value_loss_both_branches():
    values = T([[1.0, 1.0, 0.0, 100.0]])
    old = T([[0.5, 0.875, 0.5, 0.0]])
    returns = T([[1.0, 0.0, 1.0, -100.0]])
    mask = T([[1, 1, 1, 0]])
    loss, stats = core.value_loss(values, old, returns, mask, clip_range_value=0.2)
    # token  v    v_old  R   v_clip = v_old + clip(v - v_old, +-0.2)   (v-R)^2  (v_clip-R)^2  max
    #  a    1.0   0.5   1.0   0.5 + 0.2 = 0.7                          0.0      0.09          0.09 (clipped wins)
    #  b    1.0   0.875 0.0   0.875 + 0.125 = 1.0                      1.0      1.0           1.0  (tie: not clipped)
    #  c    0.0   0.5   1.0   0.5 - 0.2 = 0.3                          1.0      0.49          1.0  (unclipped wins)
    # loss = 0.5 * (0.09 + 1.0 + 1.0) / 3 = 0.5 * 0.696667 = 0.348333
    close(loss, 0.348333)
    close(stats["vf_clipfrac"], 1 / 3)


# ------------------------------------------------------------------ logits helpers
def test_entropy_from_logits():
    # uniform over 4: H = ln 4 = 1.386294
    # probs [0.25, 0.75] (logits ln1, ln3, shifted by +5 to show shift invariance):
    #   H = 0.25*ln4 + 0.75*ln(4/3) = 0.346574 + 0.215762 = 0.562335
    logits = T([[[0.0, 0.0, 0.0, 0.0], [5.0, 5.0 + math.log(3.0), -1e9, -1e9]]])
    close(core.entropy_from_logits(logits), [[1.386294, 0.562335]])
    # one huge logit: entropy ~ 0 and finite (no log of 0, no overflow)
    huge = core.entropy_from_logits(T([[1000.0, 0.0]]))
    assert torch.isfinite(huge).all()
    close(huge, [0.0])


def test_logprobs_from_logits():
    # probs [0.25, 0.75]: ln 0.75 = -0.287682 ; ln 0.25 = -1.386294
    logits = T([[[0.0, math.log(3.0)], [10.0 + math.log(3.0), 10.0]]])
    tokens = T([[1, 1]])
    close(core.logprobs_from_logits(logits, tokens), [[-0.287682, -1.386294]])


# ------------------------------------------------------------------ KL controllers
def test_adaptive_kl_controller_one_update():
    # target 6, horizon 10000, n_steps 256 -> step factor 256 / 10000 = 0.0256
    # kl 9   : error = 9/6 - 1 = 0.5 -> clipped to 0.2  ; coef = 0.2 * (1 + 0.2*0.0256) = 0.201024
    ctl = core.AdaptiveKLController(0.2, target=6.0, horizon=10000)
    close(ctl.update(9.0, n_steps=256), 0.201024, tol=1e-9)
    close(ctl.value, 0.201024, tol=1e-9)
    # kl 3   : error = -0.5 -> clipped to -0.2 ; coef = 0.2 * (1 - 0.00512) = 0.198976
    close(core.AdaptiveKLController(0.2, 6.0, 10000).update(3.0, 256), 0.198976, tol=1e-9)
    # kl 6.6 : error = 0.1 (inside the clip) ; coef = 0.2 * (1 + 0.1*0.0256) = 0.200512
    close(core.AdaptiveKLController(0.2, 6.0, 10000).update(T(6.6), 256), 0.200512, tol=1e-9)


def test_fixed_kl_controller_never_moves():
    ctl = core.FixedKLController(0.05)
    assert ctl.update(100.0, 256) == 0.05 and ctl.value == 0.05


# ------------------------------------------------------------------ score scaling
def test_running_moments_match_numpy_over_concatenation():
    batches = [T([1.0, 2.0, 3.0]), T([4.0, 10.0]), T([-2.0])]
    rm = core.RunningMoments()
    assert rm.std == 1.0  # nothing seen yet
    for b in batches:
        rm.update(b)
    # all scores: 1 2 3 4 10 -2 ; sum 18 -> mean 3
    # deviations -2 -1 0 1 7 -5 ; squares 4+1+0+1+49+25 = 80 ; sample var 80/5 = 16 -> std 4
    close(rm.mean, 3.0, tol=1e-12)
    close(rm.std, 4.0, tol=1e-12)
    assert rm.count == 6
    allx = np.concatenate([b.numpy() for b in batches])
    close(rm.mean, allx.mean(), tol=1e-9)
    close(rm.std, allx.std(ddof=1), tol=1e-9)


def test_running_moments_many_random_batches():
    gen = np.random.default_rng(0)
    chunks = [gen.normal(5.0, 3.0, size=n) for n in (1, 7, 32, 2, 64)]
    rm = core.RunningMoments()
    for c in chunks:
        rm.update(torch.from_numpy(c))
    allx = np.concatenate(chunks)
    close(rm.mean, allx.mean(), tol=1e-9)
    close(rm.std, allx.std(ddof=1), tol=1e-9)


def test_scale_scores_modes():
    s = T([1.0, 2.0, 3.0])
    close(core.scale_scores(s, "none"), [1.0, 2.0, 3.0])
    # whiten: mean 2, unbiased std 1 -> [-1, 0, 1]
    close(core.scale_scores(s, "whiten"), [-1.0, 0.0, 1.0], tol=1e-4)
    rm = core.RunningMoments()
    # running, batch 1: std of [1, 2, 3] is 1 -> unchanged (mean is not removed)
    close(core.scale_scores(s, "running", rm), [1.0, 2.0, 3.0])
    # running, batch 2: all seen = [1, 2, 3, 4, 10]; mean 4; squares 9+4+1+0+36 = 50
    #   sample var 50/4 = 12.5 ; std 3.535534 -> [4, 10] / 3.535534 = [1.131371, 2.828427]
    close(core.scale_scores(T([4.0, 10.0]), "running", rm), [1.131371, 2.828427])
    with pytest.raises(ValueError):
        core.scale_scores(s, "running")
    with pytest.raises(ValueError):
        core.scale_scores(s, "zscore")


def test_non_ending_penalty_substitutes_the_score():
    scores, ended = T([1.5, -0.3, 2.0]), T([True, False, True])
    # the second response never produced EOS: its score becomes -1.0 (replaced, not -1.3)
    close(core.non_ending_penalty(scores, ended, -1.0), [1.5, -1.0, 2.0])
