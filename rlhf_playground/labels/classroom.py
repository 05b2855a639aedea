"""A class that labels together: the instructor's class (:mod:`..classes`) as a place for labels.

Attendees label the class's pairs (its model, prompts and sampling, whatever their own settings)
into the class's dataset, each under an anonymous id; every attendee walks the same list of pairs,
so attendees' agreement is measured on pairs several people judged.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict

from ..classes import CODE_LENGTH, CODE_LETTERS, Klass, classes_dir, join, me, now, save
from . import Target, model_path, read_label_prompts
from .pairs import Sampling
from .store import LabelSet


def start_class(model: str, prompts: str, sampling: Sampling) -> Klass:
    """A new class with this session as its instructor (who joins it); its settings are checked first."""
    sampling.check()
    model_path(model)
    read_label_prompts(prompts)
    taken = {path.stem for path in classes_dir().glob("*.json")}
    code = ""
    while not code or code in taken:
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
    klass = Klass(code, me(), model.strip(), prompts.strip(), asdict(sampling), now())
    save(klass)
    join(klass.code)
    return klass


def target(klass: Klass, labeler: str) -> Target:
    return Target(
        f"class:{klass.code}", klass.folder(), labeler, klass.model, klass.prompts, Sampling(**klass.sampling)
    )


def class_stats(klass: Klass) -> dict:
    return LabelSet(klass.folder()).stats()
