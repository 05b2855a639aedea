"""A compact PPO for causal language models, written to be read.

:mod:`rlhf_playground.ppo.core` holds the math as pure torch functions on padded
batches (``mask`` is 1 on response tokens, 0 on padding): KL penalty, per-token
rewards, GAE, the clipped policy and value losses, and KL/score controllers.
"""
