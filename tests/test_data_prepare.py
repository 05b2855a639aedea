"""Normalising to TRL's formats, saving atomically, and the ``data prepare`` command."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rlhf_playground import data
from rlhf_playground.data import Table, detect, drafts, prepare
from rlhf_playground.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def table(rows):
    return Table(rows, list(dict.fromkeys(k for r in rows for k in r)), "test")


def chat(*turns):
    return [{"role": role, "content": text} for role, text in zip(["user", "assistant"] * len(turns), turns)]


def test_prompt_rows_drop_the_skipped():
    p = prepare(table([{"prompt": "Input= a"}, {"prompt": "  "}, {"prompt": "b"}]))
    assert p.rows == [{"prompt": "a"}, {"prompt": "b"}]
    assert p.summary() == {
        "rows": 2,
        "source_rows": 3,
        "kind": "prompt",
        "format": "standard",
        "prompts_extracted": 2,
        "skipped": 1,
        "skip_reasons": {"empty text": 1},
        "dropped": {},
    }


def test_conversational_preference_pairs():
    multi = chat("q1", "a1", "q2", "good")
    rows = [
        {"chosen": multi, "rejected": multi[:-1] + [{"role": "assistant", "content": "bad"}]},
        {"chosen": chat("q", "same"), "rejected": chat("q", "same")},
        {"chosen": chat("q", "ok"), "rejected": chat("other q", "no")},
        {"chosen": chat("q", "ok"), "rejected": chat("q", "  ")},
        {"chosen": chat("q"), "rejected": chat("q")},
    ]
    p = prepare(table(rows))
    assert p.rows == [
        {"prompt": multi[:-1], "chosen": [multi[-1]], "rejected": [{"role": "assistant", "content": "bad"}]}
    ]
    assert p.dropped == {
        "chosen same as rejected": 1,
        "different prompts": 1,
        "empty response": 1,
        "no assistant reply": 1,
    }
    assert p.summary()["format"] == "conversational" and p.extraction.prompts[0] == "q1"


def test_transcripts_become_conversational_pairs():
    rows = [
        {"chosen": "\n\nHuman: hi\n\nAssistant: hello!", "rejected": "\n\nHuman: hi\n\nAssistant: go away"},
        {
            "chosen": "\r\n\r\nHuman: q\r\n\r\nAssistant: a\r\n\r\nHuman: q2\r\n\r\nAssistant: yes",
            "rejected": "\r\n\r\nHuman: q\r\n\r\nAssistant: a\r\n\r\nHuman: q2\r\n\r\nAssistant: no",
        },
        {"chosen": "\n\nHuman: x\n\nAssistant: fine", "rejected": "\n\nHuman: x\n\nAssistant:"},
    ]
    p = prepare(table(rows))
    assert p.rows[0] == {
        "prompt": [{"role": "user", "content": "hi"}],
        "chosen": [{"role": "assistant", "content": "hello!"}],
        "rejected": [{"role": "assistant", "content": "go away"}],
    }
    assert [m["content"] for m in p.rows[1]["prompt"]] == ["q", "a", "q2"]
    assert p.dropped == {"empty response": 1} and p.extraction.prompts == ["hi", "q", "x"]


def test_standard_explicit_triples_stay_strings():
    p = prepare(
        table([{"prompt": "Q?", "chosen": "yes", "rejected": "no"}, {"prompt": "", "chosen": "yes", "rejected": "no"}])
    )
    assert p.rows == [{"prompt": "Q?", "chosen": "yes", "rejected": "no"}]
    assert p.summary()["format"] == "standard" and p.dropped == {"empty prompt": 1}


def test_implicit_string_pairs_split_at_their_shared_words():
    p = prepare(
        table(
            [
                {"chosen": "Best fruit? Apples are.", "rejected": "Best fruit? Apricots."},
                {"chosen": "yes", "rejected": "no"},
                {"chosen": "Same text", "rejected": "Same text"},
            ]
        )
    )
    assert p.rows == [{"prompt": "Best fruit? ", "chosen": "Apples are.", "rejected": "Apricots."}]
    assert p.dropped == {"no shared prompt": 1, "chosen same as rejected": 1} and p.format == "standard"


def test_conversations_that_repeat_the_prompt_column_are_split():
    # ultrafeedback-style: a prompt string and whole conversations in chosen/rejected
    p = prepare(
        table(
            [
                {"prompt": "q", "chosen": chat("q", "good"), "rejected": chat("q", "bad")},
                {
                    "prompt": "q2",
                    "chosen": [{"role": "assistant", "content": "yes"}],
                    "rejected": [{"role": "assistant", "content": "no"}],
                },
            ]
        )
    )
    assert p.rows == [
        {
            "prompt": chat("q"),
            "chosen": [{"role": "assistant", "content": "good"}],
            "rejected": [{"role": "assistant", "content": "bad"}],
        },
        {
            "prompt": chat("q2"),
            "chosen": [{"role": "assistant", "content": "yes"}],
            "rejected": [{"role": "assistant", "content": "no"}],
        },
    ]
    assert p.format == "conversational"


def test_mixed_pairs_become_one_conversational_format():
    p = prepare(
        table(
            [
                {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: no"},
                {"chosen": "Q? yes", "rejected": "Q? nope"},
                {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "hi there"},
            ]
        )
    )
    assert p.rows[1] == {
        "prompt": chat("Q?"),
        "chosen": [{"role": "assistant", "content": "yes"}],
        "rejected": [{"role": "assistant", "content": "nope"}],
    }
    assert len(p.rows) == 2 and p.dropped == {"different prompts": 1} and p.format == "conversational"


def test_prepared_takes_the_documented_fields_positionally():
    found = detect(table([{"prompt": "x"}]))
    p = data.Prepared([{"prompt": "x"}], "prompt", found, None, {})
    assert p.summary()["rows"] == 1 and p.source == ""


def test_labelled_text_maps_string_labels():
    p = prepare(
        table(
            [
                {"review": " good ", "sentiment": "pos"},
                {"review": "bad", "sentiment": "neg"},
                {"review": "", "sentiment": "neg"},
                {"review": "meh", "sentiment": None},
            ]
        )
    )
    assert p.rows == [{"text": "good", "label": 1}, {"text": "bad", "label": 0}]
    assert p.label_names == ["neg", "pos"] and p.dropped == {"empty text": 1, "missing label": 1}
    assert prepare(data.load_sample("reviews")).rows[0]["label"] in (0, 1)


def test_text_with_markers_becomes_prompts_and_plain_text_stays():
    p = prepare(table([{"text": "###Human: a ###Assistant:"}, {"text": "Input= b"}, {"text": "c"}]))
    assert (p.kind, [r["prompt"] for r in p.rows]) == ("prompt", ["a", "b", "c"])
    p = prepare(table([{"text": "just words"}, {"text": "Input= b"}, {"text": "more"}]))
    assert (p.kind, p.rows[0]) == ("text", {"text": "just words"})


def test_prompt_completion_and_conversation():
    p = prepare(
        table([{"instruction": "###Human: do x ###Assistant:", "output": " done "}, {"instruction": "y", "output": ""}])
    )
    assert p.rows == [{"prompt": "do x", "completion": "done"}] and p.dropped == {"empty response": 1}
    p = prepare(table([{"messages": chat("q", "a")}, {"messages": "oops"}]))
    assert p.rows == [{"messages": chat("q", "a")}] and p.dropped == {"not chat messages": 1}


def test_user_column_marker_and_regex():
    t = table([{"id": 1, "body": "Question: why? Answer: so"}, {"id": 2, "body": "nothing"}])
    with pytest.raises(UserError, match="Expected columns such as prompt"):
        prepare(t)
    p = prepare(t, column="body", marker="Question:")
    assert p.rows == [{"prompt": "why? Answer: so"}] and p.extraction.reasons == {"marker not found": 1}
    assert prepare(t, column="body", regex=r"Question: (.*?) Answer").rows == [{"prompt": "why?"}]
    with pytest.raises(UserError, match="no column 'nope'.*id, body"):
        prepare(t, column="nope")
    with pytest.raises(UserError, match="No usable rows: marker not found \\(2\\)"):
        prepare(t, column="body", marker="Title:")
    with pytest.raises(UserError, match="regex"):
        prepare(t, column="body", regex="[")


def test_bundled_samples_prepare():
    prompts = prepare(data.load_sample("prompts")).summary()
    assert (prompts["rows"], prompts["skipped"]) == (360, 0)
    assert prepare(data.load_sample("preference-transcripts")).summary()["dropped"] == {"empty response": 8}
    chat_pairs = prepare(data.load_sample("preference-chat"))
    assert len(chat_pairs.rows) == 360 and chat_pairs.source == "preference_chat.jsonl"


def test_save_list_read(tmp_path):
    p = prepare(table([{"review": "good", "sentiment": "pos"}, {"review": "bad", "sentiment": "neg"}]))
    path = data.save_dataset(p, "reviews")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["name"] == "reviews" and meta["kind"] == "labelled_text" and meta["rows"] == 2
    assert meta["label_names"] == ["neg", "pos"] and meta["columns"] == ["text", "label"]
    assert data.read_dataset("reviews") == p.rows
    assert data.dataset_path("reviews") == path / "data.jsonl"
    with pytest.raises(UserError, match="already exists"):
        data.save_dataset(p, "reviews")
    data.save_dataset(p, "reviews", overwrite=True)
    data.save_dataset(prepare(table([{"prompt": "x"}])), "prompts")
    assert [m["name"] for m in data.list_datasets()] == ["prompts", "reviews"]
    assert [m["name"] for m in data.list_datasets(["prompt"])] == ["prompts"]
    with pytest.raises(UserError, match="no saved dataset 'gone'.*prompts, reviews"):
        data.read_dataset("gone")
    with pytest.raises(UserError, match="can't be used"):
        data.save_dataset(p, "../escape")


def test_failed_write_leaves_no_dataset(monkeypatch):
    p = prepare(table([{"prompt": "x"}]))
    real_dumps = json.dumps

    def failing_dumps(value, **kwargs):
        if isinstance(value, dict) and "kind" in value:  # meta.json: data.jsonl is already written
            raise OSError("disk full")
        return real_dumps(value, **kwargs)

    monkeypatch.setattr("rlhf_playground.data.store.json.dumps", failing_dumps)
    with pytest.raises(OSError):
        data.save_dataset(p, "half")
    from rlhf_playground.workspace import datasets_dir

    assert list(datasets_dir().iterdir()) == [] and data.list_datasets() == []


def test_write_prepared_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="isn't a prepared dataset"):
        data.write_prepared(prepare(table([{"prompt": "x"}])), tmp_path)
    assert [f.name for f in tmp_path.iterdir()] == ["keep.txt"]


def cli(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "rlhf_playground", "data", "prepare", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_prepares_and_saves(tmp_path):
    done = cli("preference-transcripts", "--out", "out", "--name", "pairs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["rows"] == 222 and result["format"] == "conversational"
    assert result["out"] == str(tmp_path / "out") and (tmp_path / "out" / "data.jsonl").exists()
    assert Path(result["saved"]).name == "pairs" and (Path(result["saved"]) / "meta.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.jsonl"], "no file"),
        (["bad.jsonl"], "line 2"),
        (["prompts", "--column", "nope"], "no column 'nope'"),
        (["prompts", "--regex", "("], "regex"),
        (["prompts", "--name", "../x"], "can't be used"),
        (["someone/dataset"], "can't be reached"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a"}\n{oops\n')
    done = cli(*args, "--out", "out", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "workspace"] == ["bad.jsonl"]
    assert not list(tmp_path.glob("workspace/datasets/*"))


def test_a_bundled_sample_is_parsed_and_prepared_once_and_a_file_of_its_name_is_not_taken_for_it(tmp_path):
    """A room loading and preparing the same bundled sample shares one parsed and one prepared copy (read-only
    data, the same for everyone); anything else, an upload with the sample's file name included, is its own."""
    first, second = data.load_sample("preference-chat"), data.load_sample("preference-chat")
    assert first.rows == second.rows and first.rows is not second.rows  # each caller its own list
    assert prepare(first) is prepare(second)
    assert prepare(first, column="chosen") is not prepare(first)  # one result per setting
    assert len(data.load_sample("preference-chat", limit=5).rows) == 5
    # a session keeps them as Data tab drafts: as the way to get them again, not as their rows
    kept, kept_table = drafts.keep(prepare(first)), drafts.keep(first)
    assert drafts.take(kept) is prepare(first) and os.path.getsize(kept) < 500
    assert drafts.take(kept_table).rows == first.rows and os.path.getsize(kept_table) < 500
    # a copy is a copy, and a filtered one is prepared for what it holds
    assert copy.deepcopy(prepare(first)) is not prepare(first)
    fewer = replace(first, rows=first.rows[:3])
    assert prepare(fewer).summary()["source_rows"] == 3 and os.path.getsize(drafts.keep(fewer)) > 500

    upload = tmp_path / data.SAMPLES["preference-chat"]  # the same name, other rows
    row = {"prompt": "Hi?", "chosen": "Hello! How can I help?", "rejected": "no"}
    upload.write_text(json.dumps(row) + "\n", encoding="utf-8")
    own = data.load_file(upload)
    assert own.source == first.source and own.sample is None
    assert prepare(own).rows == [row]
    assert drafts.take(drafts.keep(prepare(own))).rows == [row]  # its own rows travel with it
