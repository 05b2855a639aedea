"""Pairs to label: two different sampled answers to each prompt, generated ahead in the background.

A :class:`PairSource` serves one model, prompt set and sampling. It keeps one list of pairs and
each labeler's place in it, and a background thread generates the next batch whenever the
furthest labeler comes within ``ahead`` pairs of its end, so the next pair is usually ready
when a click asks for it. In a class every attendee walks the same list, so several people
judge the same pairs (their agreement is measured on those). Every tenth pair a labeler is
shown is one of their own earlier choices again, sides swapped: their consistency.

Generation runs in the server process, so it is bounded: the host's cap on ``max_new_tokens``
applies, one batch is generated at a time across all sources, and only ahead of demand.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass
from typing import Callable

from ..data.prompts import Prompt, prompt_text
from ..errors import UserError, require
from .store import LEXICON, Pair

REPEAT_EVERY = 10  # every tenth pair shown is an earlier one, sides swapped
RESAMPLES = 2  # more tries for a prompt whose two answers came out the same
BARREN_BATCHES = 3  # batches in a row without one usable pair: give up and say why
MAX_PROMPT_TOKENS = 256
MAX_SOURCES = 64  # pair sources kept in the server (each holds its pairs as text, not a model)
MAX_PER_SCOPE = 4  # ... and per session or class: new settings push out that scope's oldest, nobody else's
WAIT_S = 120.0  # how long a request waits for a pair being generated
_generating = threading.Lock()  # one batch at a time, whoever asked: the machine's cores are shared

AnswerPairs = Callable[[list, int], list[tuple[str, str]]]  # (prompts, seed) -> two answers per prompt


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.9
    top_p: float = 0.95
    max_new_tokens: int = 48

    def check(self) -> None:
        from ..hosting import check_cap

        require(
            [
                (
                    0 < self.temperature <= 5,
                    f"temperature must be above 0 (to sample two different answers) and at most 5 "
                    f"(got {self.temperature}).",
                ),
                (0 < self.top_p <= 1, f"top_p must be in (0, 1] (got {self.top_p})."),
                (1 <= self.max_new_tokens <= 512, f"max_new_tokens must be 1 to 512 (got {self.max_new_tokens})."),
            ]
        )
        check_cap("max_new_tokens", self.max_new_tokens)


def sampled_pairs(model_path: str, sampling: Sampling) -> AnswerPairs:
    """Two sampled answers per prompt from the model at ``model_path`` (kept loaded, see ``explore``)."""

    def answer_pairs(prompts: list, seed: int) -> list[tuple[str, str]]:
        from ..evaluation.explore import loaded_lm
        from ..models.generation import answer, encode_prompts, sampling_args, stop_ids

        model, tokenizer = loaded_lm(model_path)
        ids = encode_prompts(tokenizer, prompts, max_length=MAX_PROMPT_TOKENS)
        texts = answer(
            model,
            tokenizer,
            [row for row in ids for _ in range(2)],
            sampling.max_new_tokens,
            2 * len(ids),
            sampling_args(sampling.temperature, sampling.top_p),
            seed=seed,
            eos_ids=stop_ids(model, tokenizer),
        )
        return list(zip(texts[::2], texts[1::2]))

    return answer_pairs


def pair_id(model: str, sampling: Sampling, prompt: Prompt, a: str, b: str) -> str:
    """The same two answers to the same prompt are the same pair, whichever source made them (after a restart,
    say): a person who judged it is not asked again, and the dataset never holds it twice."""
    key = json.dumps([model, asdict(sampling), prompt, a, b], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def lexicon_scores(prompt: Prompt, a: str, b: str) -> list[float]:
    from ..rewards.scorers import LexiconScorer

    text = prompt_text(prompt)
    return LexiconScorer().score([text, text], [a, b])


class PairSource:
    def __init__(
        self,
        model: str,
        prompts: list,
        sampling: Sampling,
        answer_pairs: AnswerPairs,
        *,
        batch: int = 4,
        ahead: int = 4,
        seed: int = 0,
        max_pairs: int = 2000,
    ):
        self.model, self.sampling, self.answer_pairs = model, sampling, answer_pairs
        self.batch, self.ahead, self.seed, self.max_pairs = batch, ahead, seed, max_pairs
        self.prompts = list(prompts)
        random.Random(seed).shuffle(self.prompts)
        self.pairs: list[Pair] = []
        self.by_id: dict[str, Pair] = {}
        self.notices: deque[str] = deque(maxlen=20)  # what a labeler should know (prompts whose answers never differed)
        self.error: str | None = None
        self._places: dict[str, int] = {}  # labeler -> index of the next pair in self.pairs
        self._shown: dict[str, Pair] = {}  # labeler -> the pair on their screen, not yet labelled
        self._served: dict[str, int] = {}
        self._repeated: set[tuple[str, str]] = set()
        self._next_prompt = 0
        self._closed = False
        self._cond = threading.Condition()
        self._worker = threading.Thread(target=self._work, name="label-pairs", daemon=True)
        self._worker.start()

    # ---------------------------------------------------------------- serving
    def next_for(self, labeler: str, history: list[dict], timeout: float = WAIT_S) -> Pair:
        """The pair for ``labeler`` to judge: the one on their screen if not yet labelled, else a repeat
        (every tenth) or the next new pair they haven't labelled. ``history``: the dataset's standing events."""
        labelled = {e["pair_id"] for e in history if e["labeler"] == labeler}
        with self._cond:
            shown = self._shown.get(labeler)
            if shown is not None and shown.id not in labelled:
                return shown
            self._served[labeler] = self._served.get(labeler, 0) + 1
            pair = self._repeat(labeler, history) if self._served[labeler] % REPEAT_EVERY == 0 else None
            while pair is None:
                pair = self._next_new(labeler, labelled, timeout)
            self._shown[labeler] = pair
            return pair

    def show_again(self, labeler: str, pair: Pair) -> None:
        """Put ``pair`` (an undone choice) back on ``labeler``'s screen."""
        with self._cond:
            self.by_id.setdefault(pair.id, pair)
            self._shown[labeler] = pair

    def _next_new(self, labeler: str, labelled: set[str], timeout: float) -> Pair | None:
        place = self._places.get(labeler, 0)
        if not self._cond.wait_for(lambda: place < len(self.pairs) or self.error or self._full(), timeout):
            raise UserError("The model is still sampling the next pair (the machine is busy): try again in a moment.")
        if place >= len(self.pairs):
            raise UserError(self.error or f"This prompt set has given its {self.max_pairs} pairs: pick another.")
        self._places[labeler] = place + 1
        self._cond.notify_all()  # the worker may have more to do now
        pair = self.pairs[place]
        return None if pair.id in labelled else pair

    def _repeat(self, labeler: str, history: list[dict]) -> Pair | None:
        """A swapped copy of one of ``labeler``'s earlier a/b choices not repeated yet (seeded pick)."""
        mine = [e for e in history if e["labeler"] == labeler]
        seen_again = {e["repeat_of"] for e in mine if e.get("repeat_of")}
        earlier = [
            e
            for e in mine
            if e["choice"] in ("a", "b")
            and not e.get("repeat_of")
            and e["pair_id"] not in seen_again
            and (labeler, e["pair_id"]) not in self._repeated
        ]
        if not earlier:
            return None
        e = random.Random(f"{self.seed}:{labeler}:{len(history)}").choice(earlier)
        self._repeated.add((labeler, e["pair_id"]))
        again = Pair.from_event(e).swapped(f"{e['pair_id']}-again")
        self.by_id[again.id] = again
        return again

    def _full(self) -> bool:
        return len(self.pairs) >= self.max_pairs

    # ---------------------------------------------------------------- generating
    def _wanted(self) -> bool:
        furthest = max(self._places.values(), default=0)
        return not self._full() and self.error is None and len(self.pairs) < furthest + self.ahead

    def _work(self) -> None:
        barren = 0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or self._wanted())
                if self._closed:
                    return
                start = self._next_prompt
                self._next_prompt += self.batch
            prompts = [self.prompts[(start + i) % len(self.prompts)] for i in range(self.batch)]
            try:
                with _generating:
                    if self._closed:  # pushed out while it waited its turn: nobody wants these
                        return
                    made = self._make(prompts, self.seed + start)
            except UserError as exc:
                made, error = [], str(exc)
            except Exception as exc:  # a model that fails to load or generate: say so to whoever waits
                first_line = (str(exc).strip().splitlines() or [""])[0][:200]
                made, error = [], f"The model couldn't sample answers ({type(exc).__name__}: {first_line})."
            else:
                error = None
            barren = 0 if made else barren + 1
            if barren >= BARREN_BATCHES and error is None:
                error = (
                    f"The model gave the same answer twice to each of the last {barren * self.batch} prompts, even "
                    "after resampling: raise the temperature or pick another model."
                )
            with self._cond:
                for pair in made:
                    self.pairs.append(pair)
                    self.by_id[pair.id] = pair
                self.error = error
                self._cond.notify_all()
                if error:
                    return

    def _make(self, prompts: list, seed: int) -> list[Pair]:
        """A pair for each prompt whose two answers differ, resampling identical ones up to RESAMPLES times."""
        answers = dict(enumerate(self.answer_pairs(prompts, seed)))
        for attempt in range(1, RESAMPLES + 1):
            same = [i for i, (a, b) in answers.items() if a.strip() == b.strip()]
            if not same:
                break
            for i, again in zip(same, self.answer_pairs([prompts[i] for i in same], seed + 7919 * attempt)):
                answers[i] = again
        made = []
        for i, (a, b) in answers.items():
            if a.strip() == b.strip():
                self.notices.append(
                    f"The model gave the same answer twice to “{prompt_text(prompts[i])[:60]}”, even after "
                    f"resampling {RESAMPLES} times: that prompt was left out (a higher temperature helps)."
                )
                continue
            made.append(
                Pair(
                    pair_id(self.model, self.sampling, prompts[i], a, b),
                    prompts[i],
                    a,
                    b,
                    self.model,
                    asdict(self.sampling),
                    scores={LEXICON: lexicon_scores(prompts[i], a, b)},
                )
            )
        return made

    def close(self, wait: bool = False) -> None:
        """Stop generating; ``wait``: until a batch being generated is done (before the interpreter exits)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            self._worker.join()


# ------------------------------------------------------------------ the sources the server keeps
_sources: OrderedDict[tuple, PairSource] = OrderedDict()
_sources_lock = threading.Lock()


def source_for(scope: str, model: str, prompts_spec: str, sampling: Sampling, make: Callable[[], PairSource]):
    """The source for this scope (a workspace, a class) and settings, made with ``make`` the first time
    (and again after one that failed before making a pair: the next request tries afresh)."""
    key = (scope, model, prompts_spec, sampling)
    with _sources_lock:
        if key in _sources and _sources[key].error and not _sources[key].pairs:
            _sources.pop(key)
        if key in _sources:
            _sources.move_to_end(key)
            return _sources[key]
    source = make()
    with _sources_lock:
        if key in _sources and not _sources[key].error:  # made meanwhile by another request: keep that one
            source.close()
            return _sources[key]
        _sources[key] = source
        mine = [k for k in _sources if k[0] == scope]
        pushed = [_sources.pop(k) for k in mine[: max(0, len(mine) - MAX_PER_SCOPE)]]
        while len(_sources) > MAX_SOURCES:
            pushed.append(_sources.popitem(last=False)[1])
    for old in pushed:
        old.close()
    return source


def find_pair(scope: str, wanted: str) -> Pair | None:
    """The pair with id ``wanted`` that a source of ``scope`` showed (never another scope's)."""
    with _sources_lock:
        sources = [s for key, s in _sources.items() if key[0] == scope]
    return next((pair for source in sources if (pair := source.by_id.get(wanted)) is not None), None)


def forget_sources(scope: str | None = None, wait: bool = False) -> None:
    """Stop and drop the sources of ``scope`` (all of them with None); ``wait``: see :meth:`PairSource.close`."""
    with _sources_lock:
        dropped = [_sources.pop(key) for key in [k for k in _sources if scope is None or k[0] == scope]]
    for source in dropped:
        source.close(wait)
