"""The labels dataset (format, atomic appends, undo, ties and skips, swapped repeats), its agreement
figures worked out by hand, and the pair source (two different answers, resampling, bad input)."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest

from rlhf_playground import labels
from rlhf_playground.data import list_datasets, load_file, prepare
from rlhf_playground.data.pairs import read_pairs
from rlhf_playground.errors import UserError
from rlhf_playground.labels import pair_source as pair_module
from rlhf_playground.labels.pair_source import REPEAT_EVERY, PairSource, Sampling
from rlhf_playground.labels.store import LabelSet, Pair, consistency, label_stats, labeler_agreement
from rlhf_playground.workspace import datasets_dir

SAMPLING = {"temperature": 0.9, "top_p": 0.95, "max_new_tokens": 8}


def pair(n: int, prompt: str | None = None, **scores) -> Pair:
    return Pair(
        f"p{n}", prompt or f"Tell me about thing {n}.", f"answer A{n}", f"answer B{n}", "tiny", SAMPLING, scores=scores
    )


def fake_pairs(prompts, seed):
    """Two different answers per prompt, different for every seed."""
    return [(f"{p} first {seed}", f"{p} second {seed}") for p in prompts]


def test_choices_become_trl_pairs_and_ties_and_skips_are_only_counted():
    labels_ = LabelSet(datasets_dir() / "mine")
    labels_.record(pair(1), "a", "local")
    assert [m["name"] for m in list_datasets("preference")] == ["mine"]  # listed from its first row on
    labels_.record(pair(2), "b", "local")
    labels_.record(pair(3), "tie", "local")
    labels_.record(pair(4), "skip", "local")
    rows = [json.loads(line) for line in (labels_.folder / "data.jsonl").read_text().splitlines()]
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [
        ("Tell me about thing 1.", "answer A1", "answer B1"),
        ("Tell me about thing 2.", "answer B2", "answer A2"),
    ]
    assert {"labeler", "time", "pair_id"} <= set(rows[0])
    meta = json.loads((labels_.folder / "meta.json").read_text())
    assert (meta["kind"], meta["rows"], meta["source"], meta["models"]) == ("preference", 2, "labels", ["tiny"])
    assert meta["sampling"] == SAMPLING
    assert meta["summary"] == {"pairs": 2, "ties": 1, "skips": 1, "repeats": 0, "labelers": 1}
    triples, dropped = read_pairs("mine")  # what the reward model and DPO read
    assert len(triples) == 2 and not dropped
    prepared = prepare(load_file(labels_.folder / "data.jsonl"))  # and what `data prepare` reads
    assert prepared.kind == "preference" and len(prepared.rows) == 2


def test_undo_takes_back_the_latest_choice_of_that_labeler_only():
    labels_ = LabelSet(datasets_dir() / "mine")
    labels_.record(pair(1), "a", "ann")
    labels_.record(pair(2), "b", "bob")
    labels_.record(pair(3), "tie", "ann")
    assert labels_.undo("ann")["pair_id"] == "p3"  # a tie can be undone too
    assert labels_.undo("ann")["pair_id"] == "p1"
    assert labels_.undo("ann") is None
    assert [r["pair_id"] for r in labels_.rows()] == ["p2"]
    labels_.undo("bob")
    assert not (labels_.folder / "data.jsonl").exists()  # no pair left: no dataset to list
    assert list_datasets() == []
    labels_.record(pair(1), "b", "ann")  # an undone pair can be chosen again
    assert [r["chosen"] for r in labels_.rows()] == ["answer B1"]


def test_a_second_choice_on_the_same_pair_by_the_same_labeler_is_not_recorded():
    labels_ = LabelSet(datasets_dir() / "mine")
    first = labels_.record(pair(1), "a", "ann")
    assert labels_.record(pair(1), "b", "ann") == first
    labels_.record(pair(1), "b", "bob")  # another person on the same pair is a label of their own
    assert len(labels_.events()) == 2 and len(labels_.rows()) == 2


def test_a_dataset_not_made_by_labelling_is_refused(tmp_path):
    folder = datasets_dir() / "bought"
    folder.mkdir()
    (folder / "meta.json").write_text("{}")
    with pytest.raises(UserError, match="wasn't made by labelling"):
        LabelSet(folder)


def _label_many(folder: str, who: str, n: int) -> None:
    store = LabelSet(folder)
    for i in range(n):
        store.record(pair(i), "a" if i % 2 else "b", who)


def test_concurrent_writers_never_lose_or_duplicate_a_label():
    folder = datasets_dir() / "crowd"
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_label_many, args=(str(folder), f"person{k}", 15)) for k in range(3)]
    threads = [threading.Thread(target=_label_many, args=(folder, f"thread{k}", 15)) for k in range(2)]
    threads += [
        threading.Thread(target=_label_many, args=(folder, "twice", 15)) for _ in range(2)
    ]  # one person, two tabs
    for worker in [*procs, *threads]:
        worker.start()
    for worker in [*procs, *threads]:
        worker.join(timeout=600)
        assert not worker.is_alive()
    events = LabelSet(folder).events()
    assert sorted(e["event"] for e in events) == list(range(1, 6 * 15 + 1))
    assert len({(e["labeler"], e["pair_id"]) for e in events}) == len(events) == 90
    assert len(LabelSet(folder).rows()) == 90


def test_agreement_figures_by_hand():
    events = [
        {"event": 1, "labeler": "ann", "choice": "a", "pair_id": "p1", "scores": {"lexicon": [0.5, 0.1]}},  # agrees
        {"event": 2, "labeler": "ann", "choice": "a", "pair_id": "p2", "scores": {"lexicon": [0.0, 0.3]}},  # disagrees
        {
            "event": 3,
            "labeler": "ann",
            "choice": "b",
            "pair_id": "p3",
            "scores": {"lexicon": [0.2, 0.2]},
        },  # a draw: not judged
        {"event": 4, "labeler": "ann", "choice": "b", "pair_id": "p4", "scores": {"lexicon": [-0.4, 0.9]}},  # agrees
        {
            "event": 5,
            "labeler": "ann",
            "choice": "tie",
            "pair_id": "p5",
            "scores": {"lexicon": [0.9, 0.0]},
        },  # a tie: not judged
        {"event": 6, "labeler": "ann", "choice": "b", "pair_id": "r1", "repeat_of": "p1"},  # p1 swapped: consistent
        {"event": 7, "labeler": "ann", "choice": "a", "pair_id": "r2", "repeat_of": "p2"},  # p2 swapped, same side: not
        {"event": 8, "labeler": "bob", "choice": "a", "pair_id": "p1"},  # agrees with ann on p1
        {"event": 9, "labeler": "bob", "choice": "b", "pair_id": "p2"},  # disagrees on p2
        {"event": 10, "labeler": "cat", "choice": "a", "pair_id": "p2"},  # p2 now three people, still not all one
        {"event": 11, "labeler": "bob", "choice": "skip", "pair_id": "p4"},  # a skip shares nothing
    ]
    stats = label_stats(events, "ann")
    assert stats["lexicon"] == (2, 3)
    assert consistency(events) == (1, 2) == stats["consistency"]
    assert labeler_agreement(events) == (1, 2) == stats["labeler_agreement"]
    assert stats["yours"]["pairs"] == 4 and stats["pairs"] == 7 and stats["labelers"] == 3
    assert labels.share((2, 3)) == "2/3 (67%)" and labels.share((0, 0)) == "–"


# ------------------------------------------------------------------ the pair source
def source(answer_pairs=fake_pairs, prompts=None, **kw) -> PairSource:
    prompts = prompts or [f"prompt {i}" for i in range(12)]
    return PairSource("tiny", prompts, Sampling(**SAMPLING), answer_pairs, batch=3, ahead=3, **kw)


def test_pairs_are_ahead_different_and_every_tenth_is_an_earlier_one_swapped():
    src, store = source(), LabelSet(datasets_dir() / "mine")
    shown = []
    for i in range(REPEAT_EVERY):
        p = src.next_for("ann", store.active(), timeout=120)
        assert src.next_for("ann", store.active(), timeout=120) is p  # until labelled, the same pair stays
        assert p.a != p.b and set(p.scores) == {"lexicon"}
        store.record(p, "a", "ann")
        shown.append(p)
    repeat = shown[-1]
    assert repeat.repeat_of in {p.id for p in shown[:-1]}
    original = next(p for p in shown if p.id == repeat.repeat_of)
    assert (repeat.a, repeat.b, repeat.prompt) == (original.b, original.a, original.prompt)
    assert len(store.rows()) == REPEAT_EVERY - 1  # the repeat isn't a pair of its own
    assert store.stats("ann")["consistency"] == (0, 1)  # chose the left side both times: the other answer
    src.close()


def test_labelers_walk_the_same_pairs_at_their_own_pace():
    src, store = source(), LabelSet(datasets_dir() / "class")
    ann = [src.next_for("ann", [], timeout=120)]
    store.record(ann[0], "a", "ann")
    ann.append(src.next_for("ann", store.active(), timeout=120))
    bob = src.next_for("bob", store.active(), timeout=120)
    assert bob.id == ann[0].id and ann[1].id != ann[0].id
    src.close()


def test_identical_answers_are_resampled_then_the_prompt_is_left_out_with_a_notice():
    calls = []

    def stubborn(prompts, seed):
        calls.append(list(prompts))
        return [("same", "same") if p == "prompt 0" else (f"{p} x{seed}", f"{p} y{seed}") for p in prompts]

    src = source(stubborn, prompts=["prompt 0", "prompt 1", "prompt 2"])
    seen = {src.next_for("ann", [], timeout=120).prompt}
    assert "prompt 0" not in seen
    src.close()
    src._worker.join(timeout=120)
    batches = sum(len(c) == 3 and "prompt 0" in c for c in calls)
    assert batches >= 1 and sum(c == ["prompt 0"] for c in calls) == pair_module.RESAMPLES * batches
    assert any("same answer twice" in notice for notice in src.notices)


def test_a_model_that_always_repeats_itself_says_so():
    src = source(lambda prompts, seed: [("same", "same")] * len(prompts))
    with pytest.raises(UserError, match="same answer twice.*raise the temperature"):
        src.next_for("ann", [], timeout=120)
    src.close()


def test_a_failing_model_is_one_sentence_for_whoever_waits():
    def broken(prompts, seed):
        raise RuntimeError("out of memory")

    with pytest.raises(UserError, match="couldn't sample answers.*out of memory"):
        source(broken).next_for("ann", [], timeout=120)


def test_bad_input_is_one_sentence_each(tmp_path):
    (tmp_path / "texts.jsonl").write_text('{"text": "hello"}\n')
    with pytest.raises(UserError, match="has no prompts to answer"):
        labels.read_label_prompts(str(tmp_path / "texts.jsonl"))
    with pytest.raises(UserError, match="Pick a prompt dataset"):
        labels.read_label_prompts("")
    with pytest.raises(UserError, match="Choose a model"):
        labels.model_path("")
    with pytest.raises(UserError, match="temperature must be above 0"):
        Sampling(temperature=0).check()
    assert len(labels.read_label_prompts(labels.BUNDLED_PROMPTS)) > 100


def test_next_pair_and_choose_with_the_tiny_model(tiny_model_dir):
    target = labels.personal("my-labels", str(tiny_model_dir), labels.BUNDLED_PROMPTS, Sampling(max_new_tokens=6))
    first = labels.next_pair(target)
    assert first.a != first.b
    labels.choose(target, first.id, "b", reward="lexicon")
    second = labels.next_pair(target)
    assert second.id != first.id
    assert labels.undo(target).id == first.id
    assert labels.next_pair(target).id == first.id  # the undone pair is back on screen
    with pytest.raises(UserError, match="no longer on offer"):
        labels.choose(target, "nonsense", "a")
    with pytest.raises(UserError, match="A choice is one of"):
        labels.choose(target, first.id, "c")


def test_the_same_pair_made_again_has_the_same_id_so_it_is_never_labelled_twice():
    first, again = source(), source()  # e.g. before and after the app restarted
    pair = first.next_for("ann", [], timeout=120)
    store = LabelSet(datasets_dir() / "mine")
    store.record(pair, "a", "ann")
    assert again.next_for("ann", store.active(), timeout=120).id != pair.id  # not offered again
    assert store.record(again.by_id[pair.id], "b", "ann")["choice"] == "a"  # nor recorded twice
    first.close(), again.close()


def test_a_torn_last_line_costs_that_line_only():
    store = LabelSet(datasets_dir() / "mine")
    store.record(pair(1), "a", "ann")
    with open(store.folder / "events.jsonl", "a") as f:
        f.write('{"event": 2, "labeler": "ann", "cho')  # a crash mid-write
    store.record(pair(2), "b", "ann")
    assert [e["pair_id"] for e in store.events()] == ["p1", "p2"] and len(store.rows()) == 2


def test_a_sessions_pairs_are_found_in_that_session_only():
    made = pair_module.source_for("session-a", "tiny", "prompts", Sampling(**SAMPLING), source)
    shown = made.next_for("ann", [], timeout=120)
    assert pair_module.find_pair("session-a", shown.id) is shown
    assert pair_module.find_pair("session-b", shown.id) is None
    pair_module.forget_sources(wait=True)


def test_new_settings_push_out_only_that_scopes_oldest_sources():
    other = pair_module.source_for("someone-else", "tiny", "prompts", Sampling(**SAMPLING), source)
    for i in range(pair_module.MAX_PER_SCOPE + 2):
        pair_module.source_for("flooder", "tiny", "prompts", Sampling(temperature=0.5 + i / 10), source)
    kept = [key for key in pair_module._sources if key[0] == "flooder"]
    assert len(kept) == pair_module.MAX_PER_SCOPE
    assert pair_module.source_for("someone-else", "tiny", "prompts", Sampling(**SAMPLING), source) is other
    pair_module.forget_sources(wait=True)
