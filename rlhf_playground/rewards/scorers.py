"""Reward sources: anything that turns (prompt, response) texts into one number per response.

PPO maximises these numbers and the Compare tab shows them next to each answer.
Every scorer works on *text*, so its tokenizer never has to match the policy's:
the policy's tokens are decoded, and the scorer tokenizes the text its own way.

Three kinds, all built from one spec string by :func:`make_scorer`:

``lexicon``
    VADER's compound sentiment of the response, in [-1, 1]. Needs no model, works offline.
``classifier:<model>[:<label>]``
    A text-classification model (e.g. ``lvwerra/distilbert-imdb``); the score is the
    probability of one label (by default the one that means "positive").
``reward:<path>``
    A trained reward model (one output): the score is its raw output for prompt + response.
``judge``
    The project's own sentiment classifier (:mod:`rlhf_playground.rewards.judge`): the probability
    that the response is positive. A second opinion no policy trains against.

Scores are returned exactly as computed, NaN or inf included: spotting those is the
caller's job (the PPO trainer drops such samples and says so).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Protocol

from ..errors import UserError
from ..hosting import check_local_path

POSITIVE_NAMES = ("positive", "pos")


class Scorer(Protocol):
    """What PPO and the Compare tab need from a reward source."""

    name: str

    def score(self, prompts: list[str], responses: list[str]) -> list[float]:
        """One float per response, higher is better."""
        ...

    def describe(self, prompts: list[str], responses: list[str]) -> list[dict]:
        """Per response: ``{"score": float, "label": str | None, "positive": float | None}``."""
        ...


def join_text(prompt: str, response: str) -> str:
    """``prompt`` and ``response`` as one text, with a space between them unless one is already there."""
    if not prompt or not response or prompt[-1].isspace() or response[0].isspace():
        return prompt + response
    return prompt + " " + response


# ------------------------------------------------------------------ lexicon (VADER)
class LexiconScorer:
    """VADER sentiment of the response alone: a rule-based lexicon, no model, no network.

    ``score`` = VADER's *compound* value in [-1, 1]. ``describe`` adds VADER's usual
    label (positive >= 0.05, negative <= -0.05, neutral between) and, as ``positive``,
    the share of the text that VADER rates positive (its ``pos`` value, in [0, 1]).
    """

    name = "lexicon"

    def __init__(self):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def _polarity(self, responses: list[str]) -> list[dict]:
        return [self._analyzer.polarity_scores(text or "") for text in responses]

    def score(self, prompts: list[str], responses: list[str]) -> list[float]:
        return [float(p["compound"]) for p in self._polarity(responses)]

    def describe(self, prompts: list[str], responses: list[str]) -> list[dict]:
        rows = []
        for p in self._polarity(responses):
            compound = float(p["compound"])
            label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
            rows.append({"score": compound, "label": label, "positive": float(p["pos"])})
        return rows


# ------------------------------------------------------------------ text classifier
def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _max_length(tokenizer, cap: int = 512) -> int:
    """The tokenizer's own limit, capped (some tokenizers report a huge sentinel value)."""
    limit = getattr(tokenizer, "model_max_length", None) or cap
    return int(min(limit, cap))


def _classifier_labels(ref: str) -> int:
    """How many labels the model ``ref`` has; UserError unless it is a text-classification model."""
    from ..models import from_transformers, remote_code_allowed, remote_code_refusal, resolve

    (AutoConfig,) = from_transformers("AutoConfig")

    model_ref = resolve(ref)
    if model_ref.adapter_of:
        raise UserError(f"'{ref}' is a LoRA adapter; for a reward-model adapter use 'reward:{ref}'.")
    try:
        config = AutoConfig.from_pretrained(model_ref.path, trust_remote_code=remote_code_allowed())
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise UserError(remote_code_refusal(model_ref.label)) from None
        raise
    architectures = list(getattr(config, "architectures", None) or [])
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        kind = ", ".join(architectures) or "no classification head"
        raise UserError(
            f"'{ref}' isn't a text-classification model ({kind}); pick a model with a "
            "...ForSequenceClassification head, such as lvwerra/distilbert-imdb."
        )
    return int(config.num_labels)


class ClassifierScorer:
    """Any text-classification model; the score is the probability of one chosen label.

    ``label`` picks the label by name (as in the model's ``id2label``, case ignored) or
    by index (``1`` or ``"1"``). Left out, the label named like positive (``POSITIVE``,
    ``pos``...) is used, else ``LABEL_1`` of a two-label model, else the only output of
    a one-output model. ``output="logit"`` scores with the label's raw logit instead of
    its probability (``softmax`` over labels; ``sigmoid`` for a one-output model).
    ``include_prompt`` classifies prompt + response rather than the response alone.
    """

    def __init__(
        self,
        ref: str,
        label: str | int | None = None,
        include_prompt: bool = False,
        batch_size: int = 16,
        output: str = "probability",
    ):
        from ..models import load_sequence_classifier

        if output not in ("probability", "logit"):
            raise UserError(f"Classifier output must be 'probability' or 'logit', not {output!r}.")
        if batch_size < 1:
            raise UserError(f"batch_size must be at least 1 (got {batch_size}).")
        self.model, self.tokenizer = load_sequence_classifier(ref, num_labels=_classifier_labels(ref))
        self.model.eval()
        self.labels = self._label_names()
        self.label_index = self._pick_label(label)
        self.label = self.labels[self.label_index]
        self.include_prompt, self.batch_size, self.output = include_prompt, batch_size, output
        self.name = f"classifier:{ref}:{self.label}"

    def _label_names(self) -> list[str]:
        n = int(self.model.config.num_labels)
        id2label = {int(k): str(v) for k, v in (self.model.config.id2label or {}).items()}
        return [id2label.get(i, f"LABEL_{i}") for i in range(n)]

    def _pick_label(self, label: str | int | None) -> int:
        names = [name.lower() for name in self.labels]
        if label is None or label == "":
            for wanted in POSITIVE_NAMES:
                if wanted in names:
                    return names.index(wanted)
            starts = [i for i, name in enumerate(names) if name.startswith("pos")]
            if starts:
                return starts[0]
            if len(names) <= 2:
                return len(names) - 1  # LABEL_1 of a binary model, the only output of a 1-output one
            raise UserError(f"Choose which label to reward; this model's labels are: {', '.join(self.labels)}.")
        text = str(label).strip()
        if text.lower() in names:
            return names.index(text.lower())
        if text.isdigit() and int(text) < len(names):
            return int(text)
        raise UserError(
            f"The classifier has no label '{label}'; its labels are: {', '.join(self.labels)} "
            f"(or an index 0-{len(names) - 1})."
        )

    def _logits(self, prompts: list[str], responses: list[str]):
        """Logits ``(n, num_labels)`` for every response, computed in batches."""
        import torch

        texts = [join_text(p, r) if self.include_prompt else r for p, r in zip(prompts, responses)]
        texts = [text or " " for text in texts]  # with no special tokens an empty text has nothing to classify
        out = []
        with torch.no_grad():
            for chunk in _batches(texts, self.batch_size):
                enc = self.tokenizer(
                    chunk, padding=True, truncation=True, max_length=_max_length(self.tokenizer), return_tensors="pt"
                ).to(self.model.device)
                out.append(self.model(**enc).logits.float().cpu())
        return torch.cat(out) if out else torch.zeros(0, len(self.labels))

    def _probabilities(self, logits):
        if logits.shape[1] == 1:
            return logits.sigmoid()
        return logits.softmax(dim=-1)

    def score(self, prompts: list[str], responses: list[str]) -> list[float]:
        logits = self._logits(prompts, responses)
        chosen = logits if self.output == "logit" else self._probabilities(logits)
        return chosen[:, self.label_index].tolist()

    def describe(self, prompts: list[str], responses: list[str]) -> list[dict]:
        logits = self._logits(prompts, responses)
        probs = self._probabilities(logits)
        rows = []
        for logit_row, prob_row in zip(logits, probs):
            score = logit_row[self.label_index] if self.output == "logit" else prob_row[self.label_index]
            if len(self.labels) == 1:  # one output: the label "holds" when its probability is over 1/2
                label = self.labels[0] if prob_row[0] >= 0.5 else f"not {self.labels[0]}"
            else:
                label = self.labels[int(prob_row.argmax())]
            rows.append({"score": float(score), "label": label, "positive": float(prob_row[self.label_index])})
        return rows


# ------------------------------------------------------------------ reward model
MODEL_FOLDERS = ("merged", "model", "reward_model", "adapter")


def find_model_folder(path: str | Path) -> Path:
    """The model inside ``path``: the folder itself, or a run folder's ``artifacts/<merged|model|adapter>``.

    ``path`` may also be the id of a run in the workspace (``workspace/runs/<id>``).
    """
    from ..workspace import runs_dir

    root = Path(path).expanduser()
    if not root.is_dir() and str(path) and not root.is_absolute() and (runs_dir() / str(path)).is_dir():
        root = runs_dir() / str(path)
    if not root.is_dir():
        raise UserError(f"The reward model folder {root} doesn't exist.")
    check_local_path(root)

    def is_model(folder: Path) -> bool:  # a run folder has a config.json too, but no weights
        has_weights = any(folder.glob("*.safetensors"))
        return has_weights and ((folder / "config.json").is_file() or (folder / "adapter_config.json").is_file())

    candidates = [root] + [base / name for base in (root / "artifacts", root) for name in MODEL_FOLDERS]
    for folder in candidates:
        if folder.is_dir() and is_model(folder):
            return folder
    raise UserError(
        f"No reward model found in {root}: expected a model folder (config.json or "
        "adapter_config.json) or a reward-model run folder with artifacts/adapter."
    )


class RewardModelScorer:
    """A reward model (one output) scores prompt + response; the score is its raw output.

    The text is built the way TRL's ``RewardTrainer`` builds it while training: with the
    reward tokenizer's chat template as ``[user: prompt, assistant: response]`` when the
    tokenizer has one, otherwise ``prompt + response + eos``. The model may be a full
    folder or a LoRA adapter on a base (loaded by :func:`models.load_sequence_classifier`).
    """

    def __init__(self, path: str | Path, batch_size: int = 16):
        from ..models import load_sequence_classifier

        folder = find_model_folder(path)
        self.model, self.tokenizer = load_sequence_classifier(str(folder), num_labels=1)
        if int(self.model.config.num_labels) != 1:
            raise UserError(f"{folder} has {self.model.config.num_labels} outputs; a reward model has one.")
        self.model.eval()  # models.load_sequence_classifier has set the pad token on both
        self.batch_size = batch_size
        self.name = f"reward:{path}"

    def format(self, prompt: str, response: str) -> str:
        """The text the reward model reads for one answer."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        return prompt + response + (self.tokenizer.eos_token or "")

    def score(self, prompts: list[str], responses: list[str]) -> list[float]:
        import torch

        texts = [self.format(p, r) for p, r in zip(prompts, responses)]
        scores: list[float] = []
        # a chat template already writes the special tokens (BOS...) into the text
        special = not getattr(self.tokenizer, "chat_template", None)
        with torch.no_grad():
            for chunk in _batches(texts, self.batch_size):
                enc = self.tokenizer(
                    chunk,
                    padding=True,
                    truncation=True,
                    return_tensors="pt",
                    max_length=_max_length(self.tokenizer, cap=2048),
                    add_special_tokens=special,
                ).to(self.model.device)
                scores += self.model(**enc).logits.float()[:, 0].tolist()
        return scores

    def describe(self, prompts: list[str], responses: list[str]) -> list[dict]:
        return [{"score": s, "label": None, "positive": None} for s in self.score(prompts, responses)]


# ------------------------------------------------------------------ from a spec string
def cached_scorer(spec: str) -> Scorer:
    """:func:`make_scorer`, remembering the last few so that repeated UI calls don't reload a model.

    Remembered per workspace: ``reward:<run id>`` means another model in each session, and a
    session must never get one it can't open itself.
    """
    from ..workspace import workspace_dir

    return _cached_scorer(str(workspace_dir()), spec)


@functools.lru_cache(maxsize=4)
def _cached_scorer(workspace: str, spec: str) -> Scorer:
    return make_scorer(spec)


def _classifier_ref(rest: str) -> tuple[str, str | None]:
    """``(model, label or None)`` from the part of a ``classifier:`` spec after the colon."""
    if ":" in rest and not Path(rest).expanduser().exists():
        ref, label = (part.strip() for part in rest.rsplit(":", 1))
        return ref, label or None
    return rest, None


def check_classifier(spec: str) -> None:
    """UserError unless ``classifier:<ref>`` names a text-classification model (reads its config only)."""
    ref, _ = _classifier_ref(spec.strip().partition(":")[2].strip())
    if not ref:
        raise UserError("Name the classifier model, e.g. 'classifier:lvwerra/distilbert-imdb'.")
    _classifier_labels(ref)


def make_scorer(spec: str) -> Scorer:
    """Build a scorer from ``"lexicon"``, ``"judge"``, ``"classifier:<ref>[:<label>]"`` or ``"reward:<path>"``.

    In ``classifier:`` specs the text after the last ``:`` is a label unless the whole
    rest names an existing folder (so local paths with a ``:`` in them still work).
    """
    spec = (spec or "").strip()
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    rest = rest.strip()
    if kind in ("lexicon", "vader") and not rest:
        return LexiconScorer()
    if kind == "classifier" and rest:
        ref, label = _classifier_ref(rest)
        return ClassifierScorer(ref, label=label)
    if kind == "reward" and rest:
        return RewardModelScorer(rest)
    if kind == "judge" and not rest:
        from .judge import JudgeScorer

        return JudgeScorer()
    raise UserError(
        f"Unknown reward '{spec}'. Use 'lexicon', 'judge', 'classifier:<model>[:<label>]' "
        "(e.g. classifier:lvwerra/distilbert-imdb:POSITIVE) or 'reward:<reward model folder>'."
    )


def mean_reward(scorer: Scorer, prompts: list, answers: list[str]) -> float:
    """Mean score of ``answers`` to ``prompts`` (NaN/inf scores left out)."""
    import torch

    from ..data.prompts import prompt_text

    scores = torch.tensor(scorer.score([prompt_text(p) for p in prompts], answers))
    finite = scores[torch.isfinite(scores)]
    return finite.mean().item() if len(finite) else float("nan")


def held_out_reward(model, tokenizer, scorer: Scorer, prompts: list, max_new_tokens: int) -> float:
    """Mean reward of greedy answers to held-out ``prompts``: what PPO, GRPO, RLOO and DPO all report before
    and after training, generated by one yardstick (:func:`~rlhf_playground.models.generation.held_out_answers`)."""
    from ..models.generation import held_out_answers

    return mean_reward(scorer, prompts, held_out_answers(model, tokenizer, prompts, max_new_tokens))
