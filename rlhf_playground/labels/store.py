"""A labelled preference dataset: every choice a person makes, kept as it happened.

``events.jsonl`` in the dataset's folder is the record: one line per choice (``a``, ``b``,
``tie``, ``skip``) or ``undo``, appended under a file lock, so two people clicking at once
never lose or duplicate a label. ``data.jsonl`` and ``meta.json`` are rebuilt from it after
every event (written beside and renamed into place), which makes the folder an ordinary
workspace dataset in TRL's explicit-prompt preference format: the Reward model and DPO
tabs, and ``data prepare``, read it like any other. Ties and skips are counted, not written
as pairs; a pair shown again with its sides swapped (``repeat_of``) measures the labeler's
consistency and is not written twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..workspace import write_text_atomic

EVENTS, ROWS, META = "events.jsonl", "data.jsonl", "meta.json"
CHOICES = ("a", "b", "tie", "skip")
SOURCE = "labels"  # meta.json's "source" of a labelled dataset
LEXICON = "lexicon"
MAX_EVENTS = 50_000  # clicks one dataset records (a class of 30 labelling for an hour makes a few thousand)


@dataclass
class Pair:
    """Two sampled answers to one prompt, as shown to a labeler (``a`` on the left)."""

    id: str
    prompt: Any  # a string or a chat
    a: str
    b: str
    model: str
    sampling: dict
    repeat_of: str | None = None  # the id of an earlier pair shown again, sides swapped
    scores: dict = field(default_factory=dict)  # scorer -> [score of a, score of b]

    @classmethod
    def from_event(cls, e: dict) -> Pair:
        """The pair a recorded choice was made on."""
        fields = (e["pair_id"], e["prompt"], e["a"], e["b"], e["model"], e["sampling"], e.get("repeat_of"))
        return cls(*fields, e.get("scores") or {})

    def swapped(self, new_id: str) -> Pair:
        scores = {spec: [b, a] for spec, (a, b) in self.scores.items()}
        return Pair(new_id, self.prompt, self.b, self.a, self.model, self.sampling, self.id, scores)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LabelSet:
    """The labels in one dataset folder (created with the first label)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        meta = self.folder / META
        if meta.is_file() and not (self.folder / EVENTS).is_file():
            raise UserError(
                f"'{self.folder.name}' is a dataset that wasn't made by labelling: pick another name for your labels."
            )

    @property
    def name(self) -> str:
        return self.folder.name

    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.folder / ".lock"))

    # ---------------------------------------------------------------- reading
    def events(self) -> list[dict]:
        path = self.folder / EVENTS
        if not path.is_file():
            return []
        events = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    events.append(json.loads(line))
                except ValueError:  # a line a crash or a full disk cut short: the rest still counts
                    continue
        return events

    def active(self, events: list[dict] | None = None) -> list[dict]:
        """The choices still standing: every choice event no later undo took back."""
        events = self.events() if events is None else events
        undone = {e["undoes"] for e in events if e["choice"] == "undo"}
        return [e for e in events if e["choice"] in CHOICES and e["event"] not in undone]

    def rows(self, events: list[dict] | None = None) -> list[dict]:
        """The preference pairs in TRL's format (plus who labelled them, when, and the pair's id)."""
        rows = []
        for e in self.active(events):
            if e["choice"] in ("a", "b") and not e.get("repeat_of"):
                chosen, rejected = (e["a"], e["b"]) if e["choice"] == "a" else (e["b"], e["a"])
                rows.append(
                    {
                        "prompt": e["prompt"],
                        "chosen": chosen,
                        "rejected": rejected,
                        "labeler": e["labeler"],
                        "time": e["time"],
                        "pair_id": e["pair_id"],
                    }
                )
        return rows

    # ---------------------------------------------------------------- writing
    def record(self, pair: Pair, choice: str, labeler: str, scores: dict | None = None) -> dict:
        """Append ``labeler``'s ``choice`` on ``pair`` and rebuild the dataset; a second choice by the same
        labeler on the same pair (a double click, two tabs) is not recorded again: the first stands."""
        if choice not in CHOICES:
            raise UserError(f"A choice is one of {', '.join(CHOICES)} (got '{choice}').")
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock():
            events = self.events()
            if len(events) >= MAX_EVENTS:
                raise UserError(
                    f"'{self.name}' holds {MAX_EVENTS} labels, the most one dataset takes: save new ones under "
                    "another name."
                )
            for e in self.active(events):
                if e["pair_id"] == pair.id and e["labeler"] == labeler:
                    return e
            event = {
                "event": len(events) + 1,
                "time": _now(),
                "labeler": labeler,
                "choice": choice,
                "pair_id": pair.id,
                "repeat_of": pair.repeat_of,
                "prompt": pair.prompt,
                "a": pair.a,
                "b": pair.b,
                "model": pair.model,
                "sampling": pair.sampling,
                "scores": {**pair.scores, **(scores or {})},
            }
            self._append(event)
            self._rebuild([*events, event])
        return event

    def undo(self, labeler: str) -> dict | None:
        """Take back ``labeler``'s latest standing choice; returns it (None when there is none)."""
        if not (self.folder / EVENTS).is_file():
            return None
        with self._lock():
            events = self.events()
            mine = [e for e in self.active(events) if e["labeler"] == labeler]
            if not mine:
                return None
            last = mine[-1]
            undo = {"event": len(events) + 1, "time": _now(), "labeler": labeler, "choice": "undo"}
            undo["undoes"] = last["event"]
            self._append(undo)
            self._rebuild([*events, undo])
        return last

    def _append(self, event: dict) -> None:
        path = self.folder / EVENTS
        torn = path.is_file() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with open(path, "a", encoding="utf-8") as f:
            f.write(("\n" if torn else "") + json.dumps(event, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _rebuild(self, events: list[dict]) -> None:
        """``data.jsonl`` and ``meta.json`` from the events; no pair yet (or none left): no dataset to list."""
        rows = self.rows(events)
        if not rows:
            (self.folder / ROWS).unlink(missing_ok=True)
            return
        write_text_atomic(self.folder / ROWS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        active = self.active(events)
        last = active[-1] if active else events[-1]
        meta = {
            "name": self.name,
            "kind": "preference",
            "format": "conversational" if isinstance(rows[0]["prompt"], list) else "standard",
            "rows": len(rows),
            "source": SOURCE,
            "created": events[0]["time"],
            "updated": _now(),
            "columns": list(rows[0]),
            "models": sorted({e["model"] for e in active if e.get("model")}),
            "sampling": last.get("sampling"),
            "summary": summary_counts(active),
        }
        write_text_atomic(self.folder / META, json.dumps(meta, indent=2, ensure_ascii=False))

    def stats(self, labeler: str | None = None, reward: str = "") -> dict:
        return label_stats(self.active(), labeler, reward)


# ------------------------------------------------------------------ figures
def summary_counts(active: list[dict]) -> dict:
    fresh = [e for e in active if not e.get("repeat_of")]
    return {
        "pairs": sum(e["choice"] in ("a", "b") for e in fresh),
        "ties": sum(e["choice"] == "tie" for e in fresh),
        "skips": sum(e["choice"] == "skip" for e in fresh),
        "repeats": sum(bool(e.get("repeat_of")) for e in active),
        "labelers": len({e["labeler"] for e in active}),
    }


def agreement_with(events: list[dict], spec: str) -> tuple[int, int]:
    """(agreed, judged): on pairs the scorer ``spec`` scored apart, how often its higher score is the chosen answer."""
    agreed = judged = 0
    for e in events:
        scores = (e.get("scores") or {}).get(spec)
        if e["choice"] not in ("a", "b") or e.get("repeat_of") or not scores or scores[0] == scores[1]:
            continue
        judged += 1
        agreed += (scores[0] > scores[1]) == (e["choice"] == "a")
    return agreed, judged


def consistency(events: list[dict]) -> tuple[int, int]:
    """(same, repeated): of the pairs a labeler saw again with sides swapped, how often they chose the same answer."""
    first = {(e["labeler"], e["pair_id"]): e["choice"] for e in events if not e.get("repeat_of")}
    same = repeated = 0
    for e in events:
        original = first.get((e["labeler"], e.get("repeat_of")))
        if e.get("repeat_of") and e["choice"] in ("a", "b") and original in ("a", "b"):
            repeated += 1
            same += original != e["choice"]  # swapped sides: the same answer is on the other side
    return same, repeated


def labeler_agreement(events: list[dict]) -> tuple[int, int]:
    """(agreed, shared): of the pairs two or more labelers chose between, those where all chose the same answer."""
    by_pair: dict[str, dict[str, str]] = {}
    for e in events:
        if e["choice"] in ("a", "b") and not e.get("repeat_of"):
            by_pair.setdefault(e["pair_id"], {})[e["labeler"]] = e["choice"]
    shared = [set(choices.values()) for choices in by_pair.values() if len(choices) >= 2]
    return sum(len(sides) == 1 for sides in shared), len(shared)


def label_stats(active: list[dict], labeler: str | None = None, reward: str = "") -> dict:
    """Counts and agreement figures; ``labeler``: theirs (else everyone's); ``reward``: a scorer spec."""
    mine = [e for e in active if labeler is None or e["labeler"] == labeler]
    return {
        **summary_counts(active),
        "yours": summary_counts(mine),
        "lexicon": agreement_with(mine, LEXICON),
        "reward": agreement_with(mine, reward) if reward else None,
        "consistency": consistency(mine),
        "labeler_agreement": labeler_agreement(active),
    }


def share(pair: tuple[int, int]) -> str:
    """``"4/5 (80%)"``, or ``"–"`` when nothing was measured."""
    agreed, n = pair
    return f"{agreed}/{n} ({agreed / n:.0%})" if n else "–"
