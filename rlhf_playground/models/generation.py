"""Prompts in, answers out: chat-template encoding and left-padded batched generation.

Every place that answers prompts goes through here: SFT's before/after samples, Compare,
Try models, PPO's rollouts and the held-out evaluation of PPO, GRPO, RLOO and DPO.
Left padding keeps every prompt's last token at the end of its row, where generation
continues; the attention mask (and the position ids ``generate`` derives from it) makes
the padding invisible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..data.prompts import Prompt, prompt_text

if TYPE_CHECKING:
    import torch

GREEDY = {"do_sample": False}
SCORED = {"return_dict_in_generate": True, "output_logits": True, "output_hidden_states": True}


def encode_prompt(tokenizer, prompt: Prompt, *, chat: bool = True, max_length: int | None = None) -> list[int]:
    """Prompt token ids as the model sees them at generation time.

    With ``chat`` and a tokenizer that has a chat template, the prompt (a plain string as one
    user turn) goes through the template; otherwise it is plain text (a chat's last user turn).
    ``max_length`` keeps the last tokens of a longer prompt.
    """
    return encode_prompts(tokenizer, [prompt], chat=chat, max_length=max_length)[0]


def encode_prompts(
    tokenizer, prompts: list[Prompt], *, chat: bool | list[bool] = True, max_length: int | None = None
) -> list[list[int]]:
    """:func:`encode_prompt` for each prompt (``chat``: one flag for all, or one per prompt), in one tokenizer call
    per kind: a call costs more than the tokenizing of a short prompt, and Start checks 32 prompts in the app."""
    flags = [bool(flag) for flag in chat] if isinstance(chat, list) else [bool(chat)] * len(prompts)
    templated = bool(getattr(tokenizer, "chat_template", None))
    ids: list[list[int]] = [[] for _ in prompts]
    for through_template in (True, False):
        which = [i for i, flag in enumerate(flags) if (flag and templated) == through_template]
        if not which:
            continue
        if through_template:
            texts = [_templated(tokenizer, prompts[i]) for i in which]
        else:
            texts = [prompt_text(prompts[i]) for i in which]
        for i, row in zip(which, tokenizer(texts, add_special_tokens=not through_template)["input_ids"]):
            ids[i] = row[-max_length:] if max_length else row
    return ids


def _templated(tokenizer, prompt: Prompt) -> str:
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def sampling_args(temperature: float, top_p: float = 1.0, top_k: int = 0) -> dict:
    """``generate`` keyword arguments: greedy for temperature 0, otherwise sampling (top_k 0 = no top-k)."""
    if temperature == 0:
        return dict(GREEDY)
    return {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": top_k}


def _config_eos(model) -> list[int]:
    eos = model.generation_config.eos_token_id
    return [] if eos is None else list(eos) if isinstance(eos, list) else [eos]


def stop_ids(model, tokenizer) -> list[int]:
    """Every token that ends an answer: the tokenizer's EOS and the generation config's."""
    return sorted({tokenizer.eos_token_id, *_config_eos(model)} - {None})


def answer_mask(answer, eos_ids: list[int]):
    """``(mask, ended)`` for generated tokens ``(B, T)``: mask is 1 up to and including the first EOS.

    The EOS token stays in the mask: ending is an action the policy takes and gets credit for.
    """
    import torch

    is_eos = torch.isin(answer, torch.tensor(eos_ids, dtype=answer.dtype, device=answer.device)).long()
    after_eos = (is_eos.cumsum(1) - is_eos) > 0  # strictly after the first EOS
    return (~after_eos).long(), is_eos.any(1)


@dataclass
class Generated:
    """One batch of answers. Tensors are ``(B, T)`` over answer tokens unless noted."""

    texts: list[str]
    ids: torch.Tensor  # (B, P + T): left-padded prompt, then the answer
    attention_mask: torch.Tensor  # (B, P + T): the prompt's tokens, then the answer's up to its EOS
    mask: torch.Tensor  # 1 on answer tokens up to and including EOS
    ended: torch.Tensor  # (B,) whether the answer produced EOS
    logits: torch.Tensor | None = None  # with ``scored``: (B, T, V) the raw logits each answer token was drawn from
    hidden: torch.Tensor | None = None  # with ``scored``: (B, T, H) the last layer's state before each answer token


def generate(
    model,
    tokenizer,
    prompt_ids: list[list[int]],
    max_new_tokens: int,
    sampling: dict | None = None,
    *,
    eos_ids: list[int] | None = None,
    strip: bool = True,
    scored: bool = False,
) -> Generated:
    """Answer tokenized prompts in one left-padded batch, greedy unless ``sampling`` (``generate`` arguments).

    Answers end at the first of ``eos_ids`` (default: the generation config's EOS); their texts
    leave out special tokens and, with ``strip``, surrounding white space. With ``scored`` the answer
    keeps what generating it computed anyway: each token's raw logits and the last layer's hidden state
    before it (what PPO's rollout would otherwise compute again in a second pass).
    """
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    width = max(map(len, prompt_ids))
    query = torch.tensor([[pad] * (width - len(p)) + p for p in prompt_ids], device=model.device)
    query_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompt_ids], device=model.device)
    stop = {"eos_token_id": eos_ids} if eos_ids else {}
    model.eval()
    with torch.no_grad():
        out = model.generate(
            input_ids=query,
            attention_mask=query_mask,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad,
            use_cache=True,
            **stop,
            **(sampling or GREEDY),
            **(SCORED if scored else {}),
        )
    ids = out.sequences if scored else out
    answer = ids[:, width:]
    mask, ended = answer_mask(answer, eos_ids or _config_eos(model))
    texts = [tokenizer.decode(row[m.bool()], skip_special_tokens=True) for row, m in zip(answer, mask)]
    found = Generated([t.strip() if strip else t for t in texts], ids, torch.cat([query_mask, mask], 1), mask, ended)
    if scored:  # one entry per generated token; the first one's states cover the whole prompt
        found.logits = torch.stack(out.logits, 1)
        found.hidden = torch.cat([layers[-1][:, -1:] for layers in out.hidden_states], 1)
    return found


def answer(
    model,
    tokenizer,
    prompt_ids: list[list[int]],
    max_new_tokens: int,
    batch_size: int,
    sampling: dict | None = None,
    *,
    seed: int | None = None,
    eos_ids: list[int] | None = None,
    strip: bool = True,
) -> list[str]:
    """Answer texts, ``batch_size`` prompts at a time; with ``seed``, torch is seeded (seed + first index)
    before each batch, so sampled answers differ only where the models do."""
    import torch

    texts = []
    for start in range(0, len(prompt_ids), batch_size):
        if seed is not None:
            torch.manual_seed(seed + start)
        texts += generate(
            model,
            tokenizer,
            prompt_ids[start : start + batch_size],
            max_new_tokens,
            sampling,
            eos_ids=eos_ids,
            strip=strip,
        ).texts
    return texts


# One yardstick for every RL method: the same prompt length, batches and greedy decoding, so that the
# methods table compares like with like.
EVAL_PROMPT_TOKENS = 512  # held-out prompts are read whole (TRL's trainers don't cut prompts either)
EVAL_BATCH_SIZE = 8  # answers generated together: with left padding a batch's make-up moves the last digits


def held_out_answers(model, tokenizer, prompts: list[Prompt], max_new_tokens: int) -> list[str]:
    """Greedy answers through the chat template, each ending at its first EOS: how PPO, GRPO, RLOO and DPO
    answer held-out prompts (deterministic, so before/after compare the same decoding)."""
    ids = encode_prompts(tokenizer, prompts, max_length=EVAL_PROMPT_TOKENS)
    return answer(model, tokenizer, ids, max_new_tokens, EVAL_BATCH_SIZE, eos_ids=stop_ids(model, tokenizer))
