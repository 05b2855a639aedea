"""Classes: an instructor's code that attendees type to label together (see :mod:`.classroom`).

A class's record is ``<shared root>/classes/<code>.json``: the one thing every session of a
hosted server shares on purpose (a code, the settings, who the instructor is, whether it has
ended). Its labels go into a dataset in the *instructor's* workspace, ``class-<code>``; attendees
never see that workspace, only the instructor's finished runs, read-only, as
``class:<code>/<run id>`` model references (:func:`class_adapter`). A session remembers the class
it joined in its own workspace (``class.json``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from ..workspace import (
    SESSIONS,
    adapter_folder,
    current_address,
    current_session,
    shared_root,
    workspace_dir,
    write_text_atomic,
)
from .guesses import check as check_guess
from .guesses import missed as missed_guess

CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector
CODE_LENGTH = 5
_CODE = re.compile(rf"^[{CODE_LETTERS}]{{{CODE_LENGTH}}}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
JOINED = "class.json"
PREFIX = "class:"  # a class run as a model reference: class:<code>/<run id>


@dataclass
class Klass:
    code: str
    instructor: str  # the instructor's session key ("" on a machine without sessions)
    model: str
    prompts: str
    sampling: dict
    started: str
    ended: str | None = None
    model_folder: str = ""  # the model, resolved once in the instructor's session (a run id means theirs)

    def prompts_file(self) -> Path:
        """The class's prompts, copied when it started: nobody's later dataset of that name changes them."""
        return classes_dir() / f"{self.code}.prompts.jsonl"

    def workspace(self) -> Path:
        root = shared_root()
        return root / SESSIONS / self.instructor if self.instructor else root

    def folder(self) -> Path:
        """The class's labels: a dataset of the instructor's."""
        return self.workspace() / "datasets" / f"class-{self.code.lower()}"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def classes_dir() -> Path:
    path = shared_root() / "classes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def me() -> str:
    """This session's key, as a class records its instructor."""
    return current_session() or ""


def save(klass: Klass) -> None:
    write_text_atomic(classes_dir() / f"{klass.code}.json", json.dumps(asdict(klass), indent=2))


def open_class(code: str) -> Klass:
    """The class with this code; UserError when there is none or it has ended."""
    code = (code or "").strip().upper()
    path = classes_dir() / f"{code}.json"
    if not _CODE.match(code) or not path.is_file():
        raise UserError(f"There is no class '{code}': check the code on the instructor's screen.")
    klass = Klass(**json.loads(path.read_text(encoding="utf-8")))
    if klass.ended:
        raise UserError(f"The class {code} has ended: ask the instructor for a new code.")
    return klass


def is_instructor(klass: Klass) -> bool:
    return klass.instructor == me()


def end_class(code: str) -> Klass:
    klass = open_class(code)
    if not is_instructor(klass):
        raise UserError(f"Only the instructor who started class {klass.code} can end it.")
    klass.ended = now()
    save(klass)
    return klass


def attendee_id(klass: Klass) -> str:
    """An anonymous id for this session in this class (the same on every visit, nothing about who it is)."""
    return "attendee-" + hashlib.sha256(f"{klass.code}:{me() or 'local'}".encode()).hexdigest()[:12]


def join(code: str) -> Klass:
    """Join the class (this session remembers it); the instructor joins their own class too.

    A wrong code counts against this session and its address, and one that keeps guessing must wait
    (:mod:`.guesses`).
    """
    check_guess(me(), current_address())
    try:
        klass = open_class(code)
    except UserError:
        missed_guess(me(), current_address())
        raise
    write_text_atomic(workspace_dir() / JOINED, json.dumps({"code": klass.code}))
    return klass


def joined() -> Klass | None:
    """The class this session joined, while it lasts."""
    try:
        return open_class(json.loads((workspace_dir() / JOINED).read_text(encoding="utf-8"))["code"])
    except (OSError, ValueError, KeyError, UserError):
        return None


def leave() -> None:
    (workspace_dir() / JOINED).unlink(missing_ok=True)


def class_adapter(ref: str) -> Path | None:
    """The adapter folder ``class:<code>/<run id>`` names: a finished run of the instructor of a class this
    session joined (read-only: nothing else of their workspace is reachable). None otherwise."""
    code, _, run_id = ref[len(PREFIX) :].partition("/")
    klass = joined()
    if klass is None or klass.code != code.upper() or not _RUN_ID.match(run_id) or ".." in run_id:
        return None
    run = klass.workspace() / "runs" / run_id
    try:
        finished = json.loads((run / "status.json").read_text(encoding="utf-8")).get("state") == "finished"
    except (OSError, ValueError):
        finished = False
    folder = adapter_folder(run)
    return folder if finished and (folder / "adapter_config.json").is_file() else None
