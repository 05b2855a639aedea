"""The judge: a second opinion on answers that no policy was trained against.

A policy tuned to maximise one scorer can learn that scorer's blind spots (reward hacking).
The judge is a small sentiment classifier the project trains itself, offline, the first time
it is asked for: a logistic regression on sentence embeddings (the mean of the last hidden states)
of the bundled base model, SmolLM2-135M-Instruct, kept frozen, fitted to the bundled ``reviews``
sample. It shares neither data nor model with the lexicon (VADER's word list) nor with the reward
models the demo and the Label tab train (the MiniLM encoder of :mod:`.minilm`, on preference pairs),
so when they say the answers got better and the judge disagrees, something is being gamed. A policy
starts from the same base, but nothing trains it against the judge.

Why a probe on frozen embeddings and not a fine-tuned model: the reviews are few and written from
templates, and a fine-tuned encoder learns the templates (a fine-tuned MiniLM rated "The sea is
wide." 98% positive); the strongly regularised probe keeps what the embeddings already know about
meaning, so a neutral sentence lands near the middle. The probe's weights and its held-out accuracy
are kept in the cache (``judge.json``, ``head.safetensors``).
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

from ..workspace import built_once, cache_dir

NAME = "judge-smollm2-probe-v2"  # a new recipe gets a new name, so an old cached judge is never mixed up
L2, HELD_OUT, SEED, BATCH = 1e-3, 0.1, 0, 64


def encoder_path() -> str:
    """Where the judge's encoder loads from: the bundled base model (converted on first use), or the same
    model from the Hub where the bundle isn't installed."""
    from ..models import DEFAULT_MODEL, resolve

    return resolve(DEFAULT_MODEL).path


@functools.lru_cache(maxsize=1)
def base_encoder() -> "Encoder":
    """The judge's encoder, loaded once a process (the judge's fit and its scoring share it)."""
    return Encoder(encoder_path())


def judge_dir() -> Path:
    """The fitted judge (about 20 s on a CPU the first time it is asked for)."""
    encoder_path()  # UserError before anything is built when the base model can't be had
    return built_once(
        cache_dir() / NAME, lambda folder: fit(base_encoder(), folder), _is_fitted, what="the judge", size="2 KB"
    )


def report() -> dict:
    """What ``judge.json`` says: held-out accuracy and the counts it was measured on."""
    return json.loads((judge_dir() / "judge.json").read_text(encoding="utf-8"))


def _is_fitted(folder: Path) -> bool:
    return (folder / "judge.json").is_file() and (folder / "head.safetensors").is_file()


class Encoder:
    """Sentence embeddings: the mean of a model's last hidden states over real tokens, unit length."""

    def __init__(self, folder: str | Path):
        from ..models import from_transformers

        AutoModel, AutoTokenizer = from_transformers("AutoModel", "AutoTokenizer")

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        if self.tokenizer.pad_token is None:  # a causal LM's tokenizer may have none; padding is masked out
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModel.from_pretrained(folder).eval()

    def __call__(self, texts: list[str]):
        import torch

        out = []
        with torch.no_grad():
            for start in range(0, len(texts), BATCH):
                batch = self.tokenizer(
                    [t or " " for t in texts[start : start + BATCH]],
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                out.append(torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1))
        return torch.cat(out) if out else torch.zeros(0, self.model.config.hidden_size)


def _reviews() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(training, held-out) (text, label) pairs of the bundled reviews, split with a fixed seed."""
    from ..data import load_sample

    rows = [(row["text"], int(row["label"])) for row in load_sample("reviews").rows]
    random.Random(SEED).shuffle(rows)
    n_held_out = max(1, round(len(rows) * HELD_OUT))
    return rows[n_held_out:], rows[:n_held_out]


def fit(encoder: Encoder, folder: Path) -> None:
    """Fit the L2-regularised logistic regression on the training reviews; save it and its held-out accuracy."""
    import torch
    from safetensors.torch import save_file

    training, held_out = _reviews()
    features, labels = encoder([t for t, _ in training]), torch.tensor([y for _, y in training], dtype=torch.float32)
    weight = torch.zeros(features.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=500)

    def loss():
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(features @ weight + bias, labels)
        value = value + L2 * weight.square().sum()
        value.backward()
        return value

    optimizer.step(loss)
    head = {"weight": weight.detach(), "bias": bias.detach()}
    predicted = (encoder([t for t, _ in held_out]) @ head["weight"] + head["bias"]) > 0
    accuracy = sum(int(p) == y for p, (_, y) in zip(predicted.tolist(), held_out)) / len(held_out)
    save_file(head, str(folder / "head.safetensors"))
    info = {
        "held_out_accuracy": accuracy,
        "n_train": len(training),
        "n_held_out": len(held_out),
        "data": "rlhf_playground/samples/reviews.csv",
        "encoder": "HuggingFaceTB/SmolLM2-135M-Instruct (the bundled base model), frozen, mean of the last layer",
        "l2": L2,
    }
    (folder / "judge.json").write_text(json.dumps(info, indent=2), encoding="utf-8")


class JudgeScorer:
    """The judge as a scorer: the probability that the response (alone) is positive."""

    name = "judge"

    def __init__(self) -> None:
        from safetensors.torch import load_file

        folder = judge_dir()
        self.encoder = base_encoder()
        self.head = load_file(str(folder / "head.safetensors"))

    def score(self, prompts: list[str], responses: list[str]) -> list[float]:
        logits = self.encoder(list(responses)) @ self.head["weight"] + self.head["bias"]
        return logits.sigmoid().tolist()

    def describe(self, prompts: list[str], responses: list[str]) -> list[dict]:
        return [
            {"score": p, "label": "POSITIVE" if p >= 0.5 else "NEGATIVE", "positive": p}
            for p in self.score(prompts, responses)
        ]
