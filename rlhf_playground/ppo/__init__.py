"""A compact PPO for causal language models, written to be read.

:mod:`~rlhf_playground.ppo.config` holds its settings (cheap to import, for forms and
the CLI); :mod:`~rlhf_playground.ppo.core` the math as pure torch functions on padded
batches (``mask`` is 1 on response tokens, 0 on padding): KL penalty, per-token
rewards, GAE, the clipped policy and value losses, and KL/score controllers;
:mod:`~rlhf_playground.ppo.trainer` the loop (rollout, rewards, advantages, epochs of
minibatches) and saving/loading a trained policy; :mod:`~rlhf_playground.ppo.parallel` what the
processes of a data-parallel run under ``accelerate launch`` share.
"""
