"""Class mode in the library: an instructor's class, attendees from other sessions, what each may see."""

from __future__ import annotations

import json

import pytest

from rlhf_playground import labels
from rlhf_playground.data import list_datasets
from rlhf_playground.errors import UserError
from rlhf_playground.labels import classes, classroom, guesses
from rlhf_playground.labels.store import Pair
from rlhf_playground.models import resolve
from rlhf_playground.ui.choices import class_runs
from rlhf_playground.workspace import adapter_folder, root_dir, runs_dir, session

SAMPLING = labels.Sampling(max_new_tokens=6)


def label_as(secret: str, code: str, pair: Pair, choice: str) -> str:
    with session(secret):
        klass = classes.join(code)
        who = classes.attendee_id(klass)
        classroom.target(klass, who).labels().record(pair, choice, who)
        return who


def test_attendees_label_into_the_instructors_dataset_anonymously(tiny_model_dir):
    with session("instructor-secret-" + "x" * 20) as teacher_space:
        klass = classroom.start_class(str(tiny_model_dir), labels.BUNDLED_PROMPTS, SAMPLING)
    assert len(klass.code) == classes.CODE_LENGTH
    pair = Pair("p1", "Tell me about tea.", "Tea is lovely.", "Tea is awful.", "tiny", {})
    ann = label_as("ann-secret-" + "y" * 24, klass.code.lower(), pair, "a")  # codes are read case-blind
    bob = label_as("bob-secret-" + "z" * 24, klass.code, pair, "a")
    assert ann != bob and ann.startswith("attendee-") and "ann" not in ann
    rows = [json.loads(line) for line in (klass.folder() / "data.jsonl").read_text().splitlines()]
    assert {r["labeler"] for r in rows} == {ann, bob}
    assert klass.folder().is_relative_to(teacher_space)  # the data stays with the instructor
    stats = classroom.class_stats(klass)
    assert (stats["pairs"], stats["labelers"], stats["labeler_agreement"]) == (2, 2, (1, 1))
    with session("ann-secret-" + "y" * 24):
        assert list_datasets() == []  # an attendee's own workspace holds nothing of the class
    with session("instructor-secret-" + "x" * 20):
        assert [m["name"] for m in list_datasets("preference")] == [f"class-{klass.code.lower()}"]


def test_codes_that_dont_exist_or_have_ended_are_one_sentence(tiny_model_dir):
    with pytest.raises(UserError, match="There is no class 'NOPE2'"):
        classes.open_class("nope2")
    with session("instructor-secret-" + "x" * 20):
        klass = classroom.start_class(str(tiny_model_dir), labels.BUNDLED_PROMPTS, SAMPLING)
    with session("ann-secret-" + "y" * 24):
        classes.join(klass.code)
        with pytest.raises(UserError, match="Only the instructor"):
            classes.end_class(klass.code)
    with session("instructor-secret-" + "x" * 20):
        classes.end_class(klass.code)
    with pytest.raises(UserError, match=f"The class {klass.code} has ended"):
        classes.join(klass.code)
    with session("ann-secret-" + "y" * 24):
        assert classes.joined() is None  # an ended class lets go of its attendees


def test_starting_a_class_checks_its_settings():
    with pytest.raises(UserError, match="Choose a model"):
        classroom.start_class("", labels.BUNDLED_PROMPTS, SAMPLING)
    with pytest.raises(UserError, match="temperature"):
        classroom.start_class("default", labels.BUNDLED_PROMPTS, labels.Sampling(temperature=0))
    assert not any((root_dir() / "classes").glob("*.json"))


def fake_finished_run(run_id: str, state: str = "finished") -> None:
    folder = runs_dir() / run_id
    adapter_folder(folder).mkdir(parents=True)
    (adapter_folder(folder) / "adapter_config.json").write_text("{}")
    (folder / "status.json").write_text(json.dumps({"stage": "ppo", "state": state, "created": 1}))


def test_the_instructors_runs_are_visible_read_only_to_the_class_only(tiny_model_dir):
    with session("instructor-secret-" + "x" * 20):
        klass = classroom.start_class(str(tiny_model_dir), labels.BUNDLED_PROMPTS, SAMPLING)
        fake_finished_run("ppo-1")
        fake_finished_run("ppo-3", state="running")
        assert class_runs() == []  # the instructor has them as their own runs
    ref = f"class:{klass.code}/ppo-1"
    with session("ann-secret-" + "y" * 24):
        assert classes.class_adapter(ref) is None  # not joined: nothing
        classes.join(klass.code)
        assert class_runs() == [(f"class {klass.code} · ppo · ppo-1", ref)]
        assert classes.class_adapter(ref) is not None
        assert classes.class_adapter(f"class:{klass.code}/../ppo-1") is None
        assert classes.class_adapter(f"class:{klass.code}/ppo-2") is None
        assert classes.class_adapter(f"class:{klass.code}/ppo-3") is None  # not finished: not the class's yet
    with session("eve-secret-" + "w" * 24):  # never typed the code
        assert class_runs() == [] and classes.class_adapter(ref) is None
        with pytest.raises(UserError):
            resolve(ref)  # not a model anyone outside the class can load


def test_a_class_keeps_the_prompts_and_model_it_started_with(tiny_model_dir):
    from rlhf_playground.data import prepare, save_dataset
    from rlhf_playground.data.formats import Table
    from rlhf_playground.labels.pair_source import forget_sources

    def prompts(*texts):
        return prepare(Table([{"prompt": t} for t in texts], ["prompt"], "typed"))

    with session("instructor-secret-" + "x" * 20):
        save_dataset(prompts("Tell me about tea.", "Tell me about rain."), "ours")
        klass = classroom.start_class(str(tiny_model_dir), "ours", SAMPLING)
    with session("ann-secret-" + "y" * 24):
        save_dataset(prompts("Say something rude."), "ours")  # an attendee's dataset of the same name
        classes.join(klass.code)
        forget_sources(wait=True)  # e.g. the app restarted: the class's source is made again, here
        shown = labels.next_pair(classroom.target(klass, classes.attendee_id(klass)))
        assert shown.prompt in ("Tell me about tea.", "Tell me about rain.")
    forget_sources(wait=True)


def test_a_class_keeps_its_attendees_sessions_from_the_sweep(tiny_model_dir):
    import time

    from rlhf_playground.jobs.cleanup import EMPTY_GRACE_S, sweep_sessions

    with session("instructor-secret-" + "x" * 20):
        klass = classroom.start_class(str(tiny_model_dir), labels.BUNDLED_PROMPTS, SAMPLING)
    with session("ann-secret-" + "y" * 24):
        classes.join(klass.code)
    with session("eve-secret-" + "w" * 24):
        pass  # a visit that left nothing
    assert len(sweep_sessions(now=time.time() + EMPTY_GRACE_S + 60)) == 1
    with session("ann-secret-" + "y" * 24):
        assert classes.joined().code == klass.code


# ------------------------------------------------------------------ guessing codes
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_misses_are_free_at_first_then_each_waits_twice_as_long_and_are_forgotten():
    clock = Clock()
    misses = guesses.Misses(free=3, clock=clock)
    for _ in range(3):
        assert misses.wait_s("x") == 0
        misses.missed("x")
    assert misses.wait_s("x") == 2 and misses.wait_s("someone else") == 0
    clock.now += 2
    assert misses.wait_s("x") == 0
    misses.missed("x")
    assert misses.wait_s("x") == 4
    for _ in range(10):
        misses.missed("x")
    assert misses.wait_s("x") == guesses.LONGEST_WAIT_S
    clock.now += guesses.FORGET_AFTER_S + 1
    assert misses.wait_s("x") == 0
    misses.missed("x")
    assert misses.wait_s("x") == 0  # one miss after ten quiet minutes is the first again


def test_a_guessing_session_waits_before_any_code_is_read_and_others_join_at_once(tiny_model_dir, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(guesses, "SESSIONS", guesses.Misses(guesses.SESSION_FREE_MISSES, clock))
    monkeypatch.setattr(guesses, "ADDRESSES", guesses.Misses(guesses.ADDRESS_FREE_MISSES, clock))
    with session("instructor-secret-" + "x" * 20, "10.0.0.1"):
        klass = classroom.start_class(str(tiny_model_dir), labels.BUNDLED_PROMPTS, SAMPLING)
    wrong = "ZZZZZ" if klass.code != "ZZZZZ" else "YYYYY"
    with session("typo-secret-" + "t" * 24, "10.0.0.2"):
        for _ in range(guesses.SESSION_FREE_MISSES - 1):
            with pytest.raises(UserError, match="There is no class"):
                classes.join(wrong)
        assert classes.join(klass.code).code == klass.code  # a few typos cost nothing
    with session("eve-secret-" + "e" * 24, "10.0.0.3"):
        for _ in range(guesses.SESSION_FREE_MISSES):
            with pytest.raises(UserError, match="There is no class"):
                classes.join(wrong)
        with pytest.raises(UserError, match="Too many wrong class codes from here: wait 2 s"):
            classes.join(klass.code)  # refused before the code is looked at: guessing faster learns nothing
        clock.now += 2
        assert classes.join(klass.code).code == klass.code
    with session("ann-secret-" + "a" * 24, "10.0.0.3"):  # the same address, another session: a room behind a router
        assert classes.join(klass.code).code == klass.code
    # a client that starts a new session for every guess is caught by its address
    for n in range(guesses.ADDRESS_FREE_MISSES):
        with session(f"fresh-{n}-" + "f" * 30, "10.0.0.4"), pytest.raises(UserError, match="There is no class"):
            classes.join(wrong)
    with session("fresh-last-" + "f" * 30, "10.0.0.4"), pytest.raises(UserError, match="Too many wrong"):
        classes.join(klass.code)
