"""Compare: answers of the base model and tuned models side by side, scored.

:func:`compare` loads the base model once and attaches every LoRA adapter trained on
it to that one copy of the weights (peft's named adapters), so comparing a base with
five runs costs one model in memory, not six. Prompts are generated in left-padded
batches with the same seed before every batch of every model, so sampled answers
differ because the models differ, not because the dice did. Tuned entries that are
full models (or adapters on another base) can't share weights and load on their own.

As a job (a run folder, progress, a CSV) it runs through :mod:`rlhf_playground.stages.compare`.
"""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import settings
from ..data.prompts import prompt_column, prompt_text, read_rows
from ..errors import UserError, require
from ..models.generation import answer, encode_prompts, sampling_args
from ..models.policy import trained_on_sft
from ..workspace import adapter_folder

SAMPLE_MODES = ("first", "random")
HACKING_WINS = 0.6  # "reward hacking?" when the reward wins this share of prompts and the score doesn't win half
BASE_NAME = "base"


@dataclass
class CompareConfig:
    base: str = settings.base_model()
    tuned: str = settings.setting("", "comma-separated tuned models: run ids, LoRA adapter folders or model references")
    prompts_text: str = settings.setting("", "prompts typed in, one per line (wins over dataset)")
    dataset: str = settings.setting("", "a workspace dataset (or .jsonl file) with a 'prompt' column")
    n_prompts: int = settings.setting(8, "how many dataset prompts to answer")
    sample: str = settings.setting("first", "which dataset prompts: 'first' or 'random'")
    seed: int = settings.setting(0, "seed for picking prompts and for sampling")
    max_new_tokens: int = settings.setting(48, "length of each answer, in tokens")
    temperature: float = settings.setting(0.0, "sampling temperature; 0 = greedy (deterministic)")
    top_p: float = settings.setting(
        1.0, "nucleus sampling: keep the smallest set of tokens whose probability reaches top_p"
    )
    batch_size: int = settings.setting(8, "prompts generated together")
    scorer: str = settings.reward(
        "how answers are scored (several, comma-separated, each get a column; the first gives the sentiment "
        "label): " + settings.REWARD_HELP
    )
    reward: str = settings.setting("", "optional second scorer, e.g. 'reward:<run id>', shown as a reward column")
    relevance: bool = settings.setting(
        False, "measure how much each answer is about its prompt: the share of the prompt's subject words it uses"
    )
    out: str = settings.setting("", "CLI: write <out>.csv and <out>.json")

    def check_values(self) -> None:
        """The checks that read nothing: what :func:`compare` itself checks before it loads a model."""
        rules = [
            (bool(self.prompts_text.strip() or self.dataset.strip()), "Type some prompts or pick a prompt dataset."),
            (self.n_prompts >= 1, f"n_prompts must be at least 1 (got {self.n_prompts})."),
            (self.sample in SAMPLE_MODES, f"sample must be 'first' or 'random' (got '{self.sample}')."),
            (1 <= self.max_new_tokens <= 2048, f"max_new_tokens must be 1 to 2048 (got {self.max_new_tokens})."),
            (self.temperature >= 0, f"temperature can't be negative (got {self.temperature}); 0 means greedy."),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1] (got {self.top_p})."),
            (self.batch_size >= 1, f"batch_size must be at least 1 (got {self.batch_size})."),
            (bool(self.scorer.strip()), "Choose a scorer, e.g. 'lexicon'."),
        ]
        require(rules)
        if self.out:
            self._check_out()

    def validate(self) -> None:
        """Everything :func:`compare` would refuse, said before the job starts (it reads the prompts)."""
        self.check_values()
        load_prompts(self)  # a missing or unusable dataset: say so before any model loads
        resolve_tuned(self.tuned, self.base)  # so too for a run of another base
        for spec in (self.scorer, self.reward):
            if spec.strip().startswith("classifier:"):
                from ..rewards.scorers import check_classifier

                check_classifier(spec)

    def _check_out(self) -> None:
        """Refuse an ``out`` whose files couldn't be written: they are written after the whole comparison,
        too late to say so. A missing folder is fine where it can be made (``to_csv`` makes it)."""
        from ..hosting import check_local_path

        folder = Path(f"{self.out}.csv").parent
        check_local_path(folder)
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        require(
            [
                (
                    existing.is_dir(),
                    f"out '{self.out}' can't be written: {existing} isn't a folder; pick another prefix.",
                ),
                (
                    os.access(existing, os.W_OK),
                    f"out '{self.out}' can't be written: the folder {existing} isn't writable; pick another prefix.",
                ),
            ]
        )


# ------------------------------------------------------------------ prompts
def load_prompts(config: CompareConfig) -> list[str | list[dict]]:
    """The typed prompts, or ``n_prompts`` of the dataset's (the first ones or a seeded random pick)."""
    typed = [line.strip() for line in config.prompts_text.splitlines() if line.strip()]
    if typed:
        return typed
    prompts = prompt_column(read_rows(config.dataset.strip()))
    if not prompts:
        raise UserError(
            f"The dataset '{config.dataset}' has no 'prompt' column to compare on: "
            "pick a prompt dataset or type prompts."
        )
    n = min(config.n_prompts, len(prompts))
    return prompts[:n] if config.sample == "first" else random.Random(config.seed).sample(prompts, n)


# ------------------------------------------------------------------ which models
@dataclass
class Entry:
    """One tuned model to compare: an adapter on the base, or a model loaded on its own."""

    name: str
    ref: str  # an adapter folder (shares_base) or anything models.load_causal_lm takes
    shares_base: bool
    on_sft: bool = False  # an RL adapter trained on base + a merged SFT adapter: see policy.load_policy


def resolve_tuned(text: str, base: str) -> list[Entry]:
    """The comma-separated ``text`` as entries; UserError for an adapter trained on another base."""
    from ..models import resolve

    base_ref = resolve(base)
    entries, names = [], {BASE_NAME}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        label, _, item = (part.strip() for part in item.rpartition("="))  # "SFT=<run>" names an entry
        name, folder = _run_adapter(item)
        ref = resolve(folder or item)
        if ref.adapter_of:
            trained_on = _base_path(ref.adapter_of)
            if trained_on != base_ref.path:
                what = f"run {name}" if folder else f"the adapter {item}"
                raise UserError(
                    f"{what} was trained on {ref.adapter_of}, not on {base}: pick {ref.adapter_of} "
                    "as the base or another run."
                )
        name = label or name or Path(item).name or item
        while name in names:  # two entries with one name would share a column
            name += "'"
        names.add(name)
        on_sft = trained_on_sft(ref.path) if ref.adapter_of else False
        entries.append(Entry(name, ref.path, shares_base=bool(ref.adapter_of) and not on_sft, on_sft=on_sft))
    return entries


def _run_adapter(item: str) -> tuple[str | None, str | None]:
    """``(run id, its adapter folder)`` when ``item`` is a run of this workspace, else ``(None, None)``."""
    from ..jobs.runs import list_runs

    if "/" in item or item.startswith("."):
        return None, None
    run = next((r for r in list_runs() if r["id"] == item), None)
    if run is None:
        return None, None
    if run["stage"] == "reward":
        raise UserError(f"Run {item} is a reward model: use it as the reward scorer ('reward:{item}').")
    adapter = adapter_folder(run["path"])
    if not (adapter / "adapter_config.json").is_file():
        raise UserError(f"Run {item} has no saved adapter yet (it is {run['state']}): pick a finished run.")
    return item, str(adapter)


def _base_path(reference: str) -> str | None:
    """Where an adapter's recorded base lives now, or None when it can't be found here."""
    from ..models import resolve

    try:
        return resolve(reference).path
    except UserError:
        return None


# ------------------------------------------------------------------ results
@dataclass
class ComparisonResult:
    """One row per prompt: ``{"prompt": str, "outputs": {model: {response, score, label, positive, reward}}}``.

    ``models[0]`` is the base model.
    """

    models: list[str]
    rows: list[dict[str, Any]]
    scorer: str = "lexicon"
    reward: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    scorers: list[str] = field(default_factory=list)  # every scorer's name, ``scorer`` first

    def __post_init__(self) -> None:
        self.scorers = self.scorers or [self.scorer]

    def summary(self) -> dict[str, Any]:
        """Per model: mean score and reward, how varied its answers are, and for each tuned model its
        win rates against the base and what to look at.

        A win rate is the share of prompts where the tuned answer scores higher than the base
        answer; a tie counts as half a win, so two identical models get 0.5. Prompts where either
        score is NaN are left out of both the means and the win rate. ``by`` has, per scorer and for
        the reward, the mean, the win rate and its 95% interval (:func:`win_interval`). ``warnings``
        flags a model whose reward won while none of the scorers saw it win (with scorers the model
        wasn't trained against, that is reward hacking) and one whose answers collapsed (:mod:`.diversity`).
        """
        from .diversity import collapse_warning, distinct_n, top_opening
        from .relevance import drift_warning

        base = self.models[0]
        answers = {name: [row["outputs"][name]["response"] for row in self.rows] for name in self.models}
        models = {}
        for name in self.models:
            by = {}
            for scorer, key in self._measures():
                values = [self._value(row["outputs"][name], scorer, key) for row in self.rows]
                by[scorer] = {"mean": _mean(values), "win_rate": None, "interval": None}
                wins, n = self.wins(name, scorer, key) if name != base else (0.0, 0)
                if n:
                    by[scorer].update(win_rate=wins / n, interval=list(win_interval(wins, n)))
            reward = by.get(self.reward) if self.reward else {"mean": None, "win_rate": None}
            opening, share = top_opening(answers[name])
            entry = {  # the first scorer's and the reward's figures by their old names, for older readers
                "mean_score": by[self.scorer]["mean"],
                "mean_reward": reward["mean"],
                "win_rate": by[self.scorer]["win_rate"],
                "reward_win_rate": reward["win_rate"],
                "distinct_2": distinct_n(answers[name]),
                "top_opening": opening,
                "top_opening_share": share,
                "relevance": _mean([row["outputs"][name].get("relevance") for row in self.rows]),
                "by": by,
                "warnings": [],
            }
            if name != base:
                entry["warnings"] = self._warnings(entry, models[base], collapse_warning(answers[name], answers[base]))
                if drift := drift_warning(entry["relevance"], models[base]["relevance"]):
                    entry["warnings"].append(drift)
            models[name] = entry
        return {
            "n_prompts": len(self.rows),
            "base": base,
            "scorer": self.scorer,
            "scorers": self.scorers,
            "reward": self.reward or None,
            "models": models,
        }

    def _measures(self) -> list[tuple[str, str]]:
        """``(name, key)`` of every column of scores: the scorers', then the reward's."""
        return [(name, "scores") for name in self.scorers] + ([(self.reward, "reward")] if self.reward else [])

    def _value(self, output: dict, scorer: str, key: str):
        if key == "reward":
            return output.get("reward")
        return (output.get("scores") or {}).get(scorer, output.get("score") if scorer == self.scorer else None)

    def wins(self, name: str, scorer: str, key: str = "scores", against: str | None = None) -> tuple[float, int]:
        """Wins of ``name`` over ``against`` (the base by default) by one column (``key`` "scores" for a scorer,
        "reward" for the training reward; ties count half) and the prompts both have a number for."""
        other = against or self.models[0]
        pairs = [
            (self._value(r["outputs"][name], scorer, key), self._value(r["outputs"][other], scorer, key))
            for r in self.rows
        ]
        pairs = [(t, b) for t, b in pairs if isinstance(t, float | int) and isinstance(b, float | int)]
        pairs = [(t, b) for t, b in pairs if not (math.isnan(t) or math.isnan(b))]
        return sum(1.0 if t > b else 0.5 if t == b else 0.0 for t, b in pairs), len(pairs)

    def _warnings(self, entry: dict, base: dict, collapse: str | None) -> list[str]:
        found = []

        def wins(scorer: str) -> float:
            """Its win rate by ``scorer`` where its mean rose above the base's, else 0."""
            mine, theirs = entry["by"][scorer], base["by"][scorer]
            if None in (mine["mean"], theirs["mean"], mine["win_rate"]) or mine["mean"] <= theirs["mean"]:
                return 0.0
            return mine["win_rate"]

        reward_up = bool(self.reward) and wins(self.reward) >= HACKING_WINS
        seen = [name for name in self.scorers if wins(name) > 0.5]
        if reward_up and not seen:
            judged = (
                f"its score ({self.scorer}) did not"
                if len(self.scorers) == 1
                else f"none of {', '.join(self.scorers)} saw it win"
            )
            found.append(
                f"reward hacking? its reward ({self.reward}) rose but {judged}: "
                "the model may have learnt what the reward likes rather than what it stands for"
            )
        if collapse:
            found.append(collapse)
        return found

    def summary_frame(self):
        """:meth:`summary` as a table, one row per model (for a UI table)."""
        import pandas as pd

        models = {}
        for name, entry in self.summary()["models"].items():
            row = {key: value for key, value in entry.items() if key != "by"}
            for scorer, by in entry["by"].items():
                row[f"{scorer}: mean"], row[f"{scorer}: wins"] = by["mean"], by["win_rate"]
                row[f"{scorer}: 95% interval"] = "{:.0%}–{:.0%}".format(*by["interval"]) if by["interval"] else None
            models[name] = {**row, "warnings": "; ".join(entry["warnings"])}
        return pd.DataFrame.from_dict(models, orient="index").rename_axis("model").reset_index()

    def to_frame(self):
        """A wide table: the prompt, then ``<model>: response``, ``: score``, ``: label``... per model."""
        import pandas as pd

        keys = ["response", "score", "label", "positive"] + (["reward"] if self.reward else [])
        records = []
        for row in self.rows:
            record = {"prompt": row["prompt"]}
            for name in self.models:
                record.update({f"{name}: {key}": row["outputs"][name].get(key) for key in keys})
            records.append(record)
        return pd.DataFrame.from_records(records, columns=["prompt"] + [f"{n}: {k}" for n in self.models for k in keys])

    def to_csv(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_csv(path, index=False)
        return path

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"models": self.models, "settings": self.settings, "summary": self.summary(), "rows": self.rows}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        return path


def win_interval(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a win rate of ``wins`` out of ``n`` prompts (ties counted half).

    With 16 prompts a 50% win rate is anywhere from 28% to 72%: a demo's win rate is a rough figure.
    """
    p, z2 = wins / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _mean(values: list) -> float | None:
    numbers = [v for v in values if v is not None and not math.isnan(v)]
    return sum(numbers) / len(numbers) if numbers else None


def summary_markdown(result: ComparisonResult) -> str:
    """The summary as a person reads it: per model, for every scorer and the reward, the mean and the win rate
    against the base with its 95% interval; how varied the answers are; what to look at."""
    summary = result.summary()
    measures = [(name, f"`{name}`") for name in summary["scorers"]]
    if summary["reward"]:
        measures.append((summary["reward"], f"the reward `{summary['reward']}`"))
    parts = []
    for name, entry in summary["models"].items():
        figures = []
        for scorer, label in measures:
            by = entry["by"].get(scorer) or {}
            text = f"{label} {_signed(by.get('mean'))}"
            if by.get("win_rate") is not None:
                low, high = by["interval"]
                text += f", wins **{by['win_rate']:.0%}** ({low:.0%}–{high:.0%})"
            figures.append(text)
        text = f"**{name}**: " + "; ".join(figures)
        if entry["distinct_2"] is not None:
            text += f"; distinct-2 {entry['distinct_2']:.2f}"
        if entry["relevance"] is not None:
            text += f"; relevance to the prompt {entry['relevance']:.2f}"
        text += "".join(f"\n  - ⚠ {warning}" for warning in entry["warnings"])
        parts.append(text)
    scored = ", ".join(f"`{name}`" for name in summary["scorers"])
    reward = f" and the reward `{summary['reward']}`" if summary["reward"] else ""
    return (
        f"{summary['n_prompts']} prompts, scored with {scored}{reward}; a win rate is against the base, ties "
        "count half, with its 95% interval.\n\n- " + "\n- ".join(parts)
    )


def headline(result: ComparisonResult) -> str:
    """One sentence on what moved: the last model against the base, by every scorer and the reward."""
    summary = result.summary()
    name = result.models[-1]
    entry, base = summary["models"][name], summary["models"][summary["base"]]
    moves = []
    for scorer in summary["scorers"] + ([summary["reward"]] if summary["reward"] else []):
        mine, theirs = entry["by"].get(scorer) or {}, base["by"].get(scorer) or {}
        if None in (mine.get("mean"), theirs.get("mean"), mine.get("win_rate")):
            continue
        label = f"its reward ({scorer})" if scorer == summary["reward"] else scorer
        moves.append(f"{label} {theirs['mean']:+.2f} → {mine['mean']:+.2f} (wins {mine['win_rate']:.0%})")
    if not moves:
        return f"{name}: no scores to compare with the base."
    return f"Against the base on {summary['n_prompts']} prompts, {name} moved " + ", ".join(moves) + "."


def examples_markdown(result: ComparisonResult, count: int = 3, width: int = 160) -> str:
    """The first ``count`` prompts with every model's answer side by side, as a markdown table."""
    cell = lambda text: " ".join(str(text).split())[:width].replace("|", "\\|") or "(empty)"  # noqa: E731
    lines = ["| prompt | " + " | ".join(result.models) + " |", "|---" * (len(result.models) + 1) + "|"]
    for row in result.rows[:count]:
        answers = [cell(row["outputs"][name]["response"]) for name in result.models]
        lines.append(f"| {cell(row['prompt'])} | " + " | ".join(answers) + " |")
    return "\n".join(lines)


def _signed(value) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def score_distribution(result: ComparisonResult):
    """A long table (model, score), one row per answer: what a box or histogram chart takes."""
    import pandas as pd

    return pd.DataFrame(
        [{"model": name, "score": row["outputs"][name]["score"]} for name in result.models for row in result.rows]
    )


# ------------------------------------------------------------------ comparing
def compare(config: CompareConfig, progress: Callable[[str, int, int], None] | None = None) -> ComparisonResult:
    """Answer the prompts with the base and every tuned model, score every answer.

    ``progress`` (optional) is called as ``progress(sentence, steps done, total steps)``
    before each model generates and before scoring; it may raise to stop the comparison.
    """
    from ..models import load_causal_lm
    from ..rewards.scorers import cached_scorer

    config.check_values()  # the job validated the rest; reading the prompts and the runs checks them again
    prompts = load_prompts(config)
    entries = resolve_tuned(config.tuned, config.base)
    scorers = [cached_scorer(spec.strip()) for spec in config.scorer.split(",") if spec.strip()]  # fail fast
    reward = cached_scorer(config.reward) if config.reward.strip() else None
    sampling = sampling_args(config.temperature, config.top_p)

    def answers_of(model, tokenizer) -> list[str]:
        ids = encode_prompts(tokenizer, prompts)
        return answer(model, tokenizer, ids, config.max_new_tokens, config.batch_size, sampling, seed=config.seed)

    answers: dict[str, list[str]] = {}
    total = len(entries) + 2

    def say(message: str) -> None:
        if progress:
            progress(message, len(answers), total)

    say(f"loading the base model {config.base}")
    model, tokenizer = load_causal_lm(config.base)
    say("answering with the base model")
    answers[BASE_NAME] = answers_of(model, tokenizer)
    shared = [e for e in entries if e.shares_base]
    if shared:
        from peft import PeftModel

        # Each adapter adds only its small LoRA matrices to the one copy of the base weights.
        model = PeftModel.from_pretrained(model, shared[0].ref, adapter_name=shared[0].name)
        for entry in shared[1:]:
            model.load_adapter(entry.ref, adapter_name=entry.name)
        for entry in shared:
            say(f"answering with {entry.name}")
            model.set_adapter(entry.name)
            answers[entry.name] = answers_of(model, tokenizer)
    del model
    for entry in (e for e in entries if not e.shares_base):
        say(f"loading and answering with {entry.name}")
        if entry.on_sft:
            from ..models.policy import load_policy

            other, other_tokenizer = load_policy(entry.ref)
        else:
            other, other_tokenizer = load_causal_lm(entry.ref)
        answers[entry.name] = answers_of(other, other_tokenizer)
        del other

    say("scoring the answers")
    names = [BASE_NAME] + [e.name for e in entries]
    texts = [prompt_text(p) for p in prompts]
    outputs = {name: _score(scorers, reward, texts, answers[name]) for name in names}
    if config.relevance:
        from .relevance import relevance

        for name, values in relevance(texts, {name: answers[name] for name in names}).items():
            for output, value in zip(outputs[name], values):
                output["relevance"] = value
    rows = [{"prompt": text, "outputs": {name: outputs[name][i] for name in names}} for i, text in enumerate(texts)]
    settings = {k: v for k, v in vars(config).items() if k != "out"}
    return ComparisonResult(
        names,
        rows,
        scorer=scorers[0].name,
        reward=reward.name if reward else "",
        settings=settings,
        scorers=[s.name for s in scorers],
    )


def _score(scorers: list, reward, prompts: list[str], responses: list[str]) -> list[dict]:
    """Per answer: the first scorer's score and label, every scorer's score, and the reward."""
    described = scorers[0].describe(prompts, responses)
    others = {s.name: s.score(prompts, responses) for s in scorers[1:]}
    rewards = reward.score(prompts, responses) if reward else [None] * len(responses)
    return [
        {
            "response": text,
            "score": d["score"],
            "label": d["label"],
            "positive": d["positive"],
            "scores": {scorers[0].name: d["score"], **{name: values[i] for name, values in others.items()}},
            "reward": r,
        }
        for i, (text, d, r) in enumerate(zip(responses, described, rewards))
    ]


# ------------------------------------------------------------------ saved results
def load_result(path: str | Path) -> ComparisonResult:
    """A comparison saved by :meth:`ComparisonResult.to_json`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    summary = data["summary"]
    return ComparisonResult(
        data["models"],
        data["rows"],
        scorer=summary["scorer"],
        reward=summary["reward"] or "",
        settings=data["settings"],
        scorers=summary.get("scorers") or [summary["scorer"]],
    )
