"""The menus several tabs offer: saved datasets, adapters to start from, rewards, tuned runs, scorers.

Each is read afresh from the workspace, so a tab that refreshes its menus sees runs and
datasets made in other tabs (or from the terminal).
"""

from __future__ import annotations

from .. import data
from ..jobs import list_runs
from ..labels.classes import PREFIX, class_adapter, is_instructor, joined
from ..registry import TUNED
from ..workspace import adapter_folder

SCORERS = ["lexicon", "classifier:lvwerra/distilbert-imdb"]
# Compare: the judge too (a trained model), and several scorers at once
JUDGED = ["lexicon", "judge", "judge,lexicon", "classifier:lvwerra/distilbert-imdb"]


def dataset_choices(kinds) -> list[str]:
    return [m["name"] for m in data.list_datasets(kinds)]


def adapter_choices() -> list[tuple[str, str]]:
    """SFT runs that left an adapter, as (label, run id): PPO can start from them (a run id names its adapter)."""
    return [("(none)", "")] + [
        (f"sft · {r['id']}", r["id"]) for r in list_runs("sft") if r.get("state") in ("finished", "stopped")
    ]


def trained_rewards() -> list[str]:
    """The finished reward-model runs, as rewards (``reward:<run id>``)."""
    return [f"reward:{r['id']}" for r in list_runs("reward") if r.get("state") == "finished"]


def reward_choices() -> list[str]:
    return ["lexicon", *trained_rewards(), "classifier:lvwerra/distilbert-imdb:POSITIVE"]


def tuned_choices() -> list[tuple[str, str]]:
    """Finished or stopped runs that saved an adapter, as (label, run id) menu entries."""
    choices = []
    for run in list_runs():
        adapter = adapter_folder(run["path"]) / "adapter_config.json"
        if run.get("stage") in TUNED and run.get("state") in ("finished", "stopped") and adapter.is_file():
            choices.append((f"{run['stage']} · {run['id']}", run["id"]))
    return choices + class_runs()  # a class's attendees see its instructor's finished runs too


def class_runs() -> list[tuple[str, str]]:
    """The finished runs of the instructor of the class this session joined, as (label, ``class:<code>/<run
    id>``): read-only models for Compare and Try models. None for the instructor: they are their own runs."""
    klass = joined()
    if klass is None or is_instructor(klass):
        return []
    entries = []
    for run in list_runs(folder=klass.workspace() / "runs"):
        ref = f"{PREFIX}{klass.code}/{run['id']}"
        if run.get("stage") in TUNED and run.get("state") == "finished" and class_adapter(ref) is not None:
            entries.append((f"class {klass.code} · {run['stage']} · {run['id']}", ref))
    return entries
