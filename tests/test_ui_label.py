"""The Label tab through the running app's API, on the tiny model: pairs, choices, undo, the dataset it
writes, training on it, bad input, and class mode from separate sessions (hosted)."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from gradio_client import Client
from serve import running_app

ENDED = ("finished", "failed", "stopped")


def settings(model, **changes):
    values = {
        "model": model,
        "prompts": "sample:prompts",
        "dataset": "my-labels",
        "reward": "",
        "temperature": 0.9,
        "top_p": 0.95,
        "max_new_tokens": 6,
    }
    return list({**values, **changes}.values())


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_model_dir):
    workspace = tmp_path_factory.mktemp("ui-label") / "workspace"
    workspace.mkdir()
    with running_app(workspace) as url:
        yield Client(url, verbose=False), workspace, str(tiny_model_dir)


@pytest.mark.slow
def test_label_undo_and_train_a_reward_model_on_the_labels(app):
    c, workspace, model = app
    shown = c.predict(*settings(model), api_name="/label_next")
    prompt, a, b, pair_id, counter, notice = shown
    assert a != b and pair_id and "0 labels" in counter and not notice
    assert c.predict(*settings(model), api_name="/label_next")[3] == pair_id  # a reload shows the same pair
    for choice in ["a", "b", "tie", "a", "skip", "b", "a"]:
        shown = c.predict(choice, shown[3], *settings(model), api_name="/label_submit")
        assert "⚠️" not in shown[5], shown[5]
    assert "5 labels" in shown[4] and "1 ties" in shown[4] and "1 skipped" in shown[4]
    assert "4 labels" in c.predict(*settings(model), api_name="/label_undo")[4]
    rows = [json.loads(line) for line in (workspace / "datasets" / "my-labels" / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all({"prompt", "chosen", "rejected", "labeler", "time"} <= set(r) for r in rows)
    started = c.predict("my-labels", api_name="/label_train_reward")
    run_id = started.split("**")[1]
    early = c.predict("my-labels", "sample:prompts", 6, model, api_name="/label_train_ppo")
    status = workspace / "runs" / run_id / "status.json"
    deadline = time.monotonic() + 600  # a job: its process starts, imports torch, trains; generous
    while time.monotonic() < deadline and json.loads(status.read_text()).get("state") not in ENDED:
        time.sleep(1)
    assert json.loads(status.read_text())["state"] == "finished"
    if "once it has finished" not in early:  # it finished before the first ask: PPO started then
        return
    message = c.predict("my-labels", "sample:prompts", 6, model, api_name="/label_train_ppo")
    assert "of your 1 held-out labels" in message and "PPO run" in message
    ppo_id = message.split("PPO run **")[1].split("**")[0]
    assert json.loads((workspace / "runs" / ppo_id / "config.json").read_text())["model"] == model
    c.predict(ppo_id, api_name="/ppo_stop")


def test_bad_input_is_one_sentence(app):
    c, workspace, model = app
    assert "Choose a model" in c.predict(*settings(""), api_name="/label_next")[5]
    texts = workspace.parent / "texts.jsonl"
    texts.write_text('{"text": "no prompt here"}\n')
    assert "has no prompts to answer" in c.predict(*settings(model, prompts=str(texts)), api_name="/label_next")[5]
    assert "temperature must be above 0" in c.predict(*settings(model, temperature=0), api_name="/label_next")[5]
    assert "no longer on offer" in c.predict("a", "not-a-pair", *settings(model), api_name="/label_submit")[5]
    (workspace / "datasets" / "bought").mkdir(parents=True)
    (workspace / "datasets" / "bought" / "meta.json").write_text("{}")
    assert "wasn't made by labelling" in c.predict(*settings(model, dataset="bought"), api_name="/label_next")[5]
    assert "label at least 4" in c.predict("nothing-yet", api_name="/label_train_reward")
    assert "There is no class 'ZZZZZ'" in c.predict("zzzzz", api_name="/label_class_join")[1]


@pytest.fixture(scope="module")
def hosted(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("ui-label-hosted")
    workspace, cache = root / "workspace", root / "cache"
    workspace.mkdir()
    shutil.copytree(tiny_model_dir, cache / "tiny")  # hosted, a model must be in the cache, not any local path
    with running_app(workspace, RLHF_HOSTED="1", RLHF_CACHE_DIR=str(cache)) as url:
        yield url, workspace, str(cache / "tiny")


@pytest.mark.slow
def test_a_class_labels_together_and_strangers_see_nothing(hosted):
    url, workspace, model = hosted
    teacher, ann, bob, eve = (Client(url, verbose=False) for _ in range(4))  # four sessions, no cookies
    code_html, counter, _ = teacher.predict(model, "sample:prompts", 0.9, 0.95, 6, api_name="/label_class_start")
    code = code_html.split(">")[1].split("<")[0]
    assert len(code) == 5 and "you are its instructor" in counter
    for attendee in (ann, bob):
        assert "you are an attendee" in attendee.predict(code, api_name="/label_class_join")[1]
        shown = attendee.predict(*settings("ignored: the class's model"), api_name="/label_next")
        assert f"class {code}" in shown[0]
        attendee.predict("a", shown[3], *settings("ignored"), api_name="/label_submit")
    counter = teacher.predict(code, api_name="/label_class_join")[1]
    assert "2 labels" in counter and "2 attendees" in counter and "1/1 (100%)" in counter
    assert "Only the instructor" in ann.predict("my-labels", api_name="/label_train_reward")
    assert "Not in a class" in eve.predict(api_name="/label_class_leave")[1]
    assert "0 labels" in eve.predict(*settings(model), api_name="/label_next")[4]
    sessions = [p for p in (workspace / "sessions").iterdir() if (p / "datasets").is_dir()]
    holders = [p for p in sessions if any((p / "datasets").glob("class-*/data.jsonl"))]
    assert len(holders) == 1 and (holders[0] / "class.json").is_file()  # the class's labels: the instructor's
    assert "Not in a class" in teacher.predict(api_name="/label_class_leave")[1]  # the instructor ends it
    for attendee in (ann, bob):
        assert "has ended" in attendee.predict(code, api_name="/label_class_join")[1]
    assert "Not in a class" in ann.predict(api_name="/label_class_leave")[1]


def test_a_client_that_guesses_codes_is_slowed_down_and_nobody_else(hosted):
    url, _, model = hosted
    teacher, late = Client(url, verbose=False), Client(url, verbose=False)  # no cookies: sessions of their own
    guesser = Client(url, verbose=False, headers={"Cookie": "rlhf_session=" + "g" * 48})
    code_html = teacher.predict(model, "sample:prompts", 0.9, 0.95, 6, api_name="/label_class_start")[0]
    code = code_html.split(">")[1].split("<")[0]
    wrong = "ZZZZZ" if code != "ZZZZZ" else "YYYYY"
    for _ in range(5):
        assert "There is no class" in guesser.predict(wrong, api_name="/label_class_join")[1]
    assert "Too many wrong class codes from here: wait" in guesser.predict(code, api_name="/label_class_join")[1]
    assert "you are an attendee" in late.predict(code, api_name="/label_class_join")[1]
    assert "Not in a class" in teacher.predict(api_name="/label_class_leave")[1]
