"""Human feedback (the Label tab): a person judges pairs of sampled answers, and every choice lands in
a preference dataset that the reward model, DPO and PPO can learn from.

A :class:`Target` says where labels go (your own dataset, or a class's) and which pairs are shown
(model, prompts, sampling); :func:`next_pair`, :func:`choose` and :func:`undo` are what the tab's
buttons and the API call; :mod:`.store` keeps the dataset, :mod:`.pair_source` samples the pairs and
:mod:`.classroom` runs a class.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..data.prompts import Prompt, prompt_column, prompt_text, read_rows
from ..errors import UserError
from ..workspace import current_session, datasets_dir, safe_name, workspace_dir
from .pair_source import PairSource, Sampling, find_pair, sampled_pairs, source_for
from .store import CHOICES, LabelSet, Pair, label_stats, share

DEFAULT_DATASET = "my-labels"
BUNDLED_PROMPTS = "sample:prompts"  # the bundled prompt sample, its prompts extracted as the Data tab does

__all__ = ["CHOICES", "LabelSet", "Pair", "Sampling", "Target", "choose", "next_pair", "share", "undo"]


def me() -> str:
    """This person's anonymous labeler id: ``local`` on your own machine, a hash of the session when hosted."""
    key = current_session()
    return "local" if key is None else "anon-" + hashlib.sha256(f"labeler:{key}".encode()).hexdigest()[:8]


def read_label_prompts(spec: str) -> list[Prompt]:
    """The prompts of a saved dataset, a .jsonl file or ``sample:<bundled sample>``; UserError when none."""
    spec = (spec or "").strip()
    if not spec:
        raise UserError(f"Pick a prompt dataset to answer (the bundled one is '{BUNDLED_PROMPTS}').")
    if spec.startswith("sample:"):
        from ..data import load_sample, prepare

        rows = prepare(load_sample(spec.partition(":")[2])).rows
    else:
        rows = read_rows(spec)
    prompts = prompt_column(rows)
    if not prompts:
        raise UserError(
            f"'{spec}' has no prompts to answer: pick a prompt dataset (one with a 'prompt' column), "
            f"e.g. the bundled '{BUNDLED_PROMPTS}'."
        )
    return prompts


def model_path(model: str) -> str:
    """The folder of ``model`` (a run id, 'default', a Hub id), resolved in this session; UserError first."""
    from ..models import check_model_size, resolve

    if not (model or "").strip():
        raise UserError("Choose a model to sample answers from first (the bundled one is 'default').")
    check_model_size(model)
    return resolve(model).path


@dataclass(frozen=True)
class Target:
    """Where labels go and what is shown: ``scope`` keeps one session's (or class's) pairs apart."""

    scope: str
    folder: Path
    labeler: str
    model: str
    prompts: str
    sampling: Sampling
    model_folder: str = ""  # a class's model and prompts, resolved when it started (see labels.classroom)
    prompts_file: str = ""

    def labels(self) -> LabelSet:
        return LabelSet(self.folder)

    def source(self) -> PairSource:
        def make() -> PairSource:
            # Resolved here, not in the thread: a run id means a run of this session.
            path = self.model_folder or model_path(self.model)
            if self.prompts_file:
                from ..data.load import read_jsonl

                prompts = prompt_column(read_jsonl(Path(self.prompts_file)))
            else:
                prompts = read_label_prompts(self.prompts)
            return PairSource(self.model, prompts, self.sampling, sampled_pairs(path, self.sampling))

        self.sampling.check()
        return source_for(self.scope, self.model, self.prompts, self.sampling, make)


def personal_labels(dataset: str) -> LabelSet:
    """Your own workspace dataset ``dataset`` (refused when it wasn't made by labelling)."""
    return LabelSet(datasets_dir() / safe_name(dataset or DEFAULT_DATASET, "labels dataset name"))


def personal(dataset: str, model: str, prompts: str, sampling: Sampling) -> Target:
    """Labels into your own workspace dataset ``dataset``."""
    folder = personal_labels(dataset).folder
    return Target(str(workspace_dir()), folder, me(), model.strip(), prompts.strip(), sampling)


def next_pair(target: Target) -> Pair:
    return target.source().next_for(target.labeler, target.labels().active())


def choose(target: Target, pair_id: str, choice: str, reward: str = "") -> dict:
    """Record ``choice`` on the pair ``pair_id`` shown to this labeler; ``reward``: a scorer whose agreement
    with the choice is measured too. Returns the standing event."""
    if choice not in CHOICES:
        raise UserError(f"A choice is one of {', '.join(CHOICES)} (got '{choice}').")
    pair = find_pair(target.scope, (pair_id or "").strip())
    if pair is None:
        raise UserError(
            "That pair is no longer on offer (the app restarted, or its settings changed): here is a new one."
        )
    scores = {}
    if reward and choice in ("a", "b"):
        from ..rewards.scorers import cached_scorer

        text = prompt_text(pair.prompt)
        scores[reward] = cached_scorer(reward).score([text, text], [pair.a, pair.b])
    return target.labels().record(pair, choice, target.labeler, scores)


def undo(target: Target) -> Pair | None:
    """Take back this labeler's latest choice and show its pair again; None when there is nothing to undo."""
    event = target.labels().undo(target.labeler)
    if event is None:
        return None
    pair = Pair.from_event(event)
    target.source().show_again(target.labeler, pair)
    return pair


def stats(target: Target, reward: str = "") -> dict:
    return label_stats(target.labels().active(), target.labeler, reward)
