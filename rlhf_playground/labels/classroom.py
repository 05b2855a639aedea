"""A class that labels together: the instructor's class (:mod:`.classes`) as a place for labels.

Attendees label the class's pairs (its model, prompts and sampling, whatever their own settings)
into the class's dataset, each under an anonymous id; every attendee walks the same list of pairs,
so attendees' agreement is measured on pairs several people judged.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict

from ..workspace import write_text_atomic
from . import Target, model_path, read_label_prompts
from .classes import (
    CODE_LENGTH,
    CODE_LETTERS,
    Klass,
    classes_dir,
    end_class,
    is_instructor,
    join,
    joined,
    me,
    now,
    save,
)
from .pair_source import Sampling
from .store import LabelSet


def start_class(model: str, prompts: str, sampling: Sampling) -> Klass:
    """A new class with this session as its instructor (who joins it; a class they had open ends). Its model
    and prompts are resolved here, once, in the instructor's session, and the prompts copied."""
    sampling.check()
    folder = model_path(model)
    rows = [{"prompt": p} for p in read_label_prompts(prompts)]
    taken = {path.name.split(".")[0] for path in classes_dir().glob("*.json*")}
    code = ""
    while not code or code in taken:
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
    if (previous := joined()) is not None and is_instructor(previous):
        end_class(previous.code)
    klass = Klass(code, me(), model.strip(), prompts.strip(), asdict(sampling), now(), model_folder=folder)
    write_text_atomic(klass.prompts_file(), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    save(klass)
    join(klass.code)
    return klass


def target(klass: Klass, labeler: str) -> Target:
    """Where an attendee's labels go and what they are shown: the class's, whatever their own settings."""
    return Target(
        f"class:{klass.code}",
        klass.folder(),
        labeler,
        klass.model,
        klass.prompts,
        Sampling(**klass.sampling),
        model_folder=klass.model_folder,
        prompts_file=str(klass.prompts_file()),
    )


def class_stats(klass: Klass) -> dict:
    return LabelSet(klass.folder()).stats()
