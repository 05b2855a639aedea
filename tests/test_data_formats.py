"""The formats people have: ShareGPT conversations and TRL's unpaired (KTO) preferences."""

from __future__ import annotations

import json

import pytest

from rlhf_playground.data import detect, load_file, prepare, save_dataset
from rlhf_playground.data.prompts import read_prompts
from rlhf_playground.errors import UserError
from rlhf_playground.stages.sft import load_examples

SHAREGPT = [
    {
        "id": "a",
        "conversations": [
            {"from": "system", "value": "Be kind."},
            {"from": "human", "value": "What colour is the sky?"},
            {"from": "gpt", "value": "Blue, on a clear day."},
        ],
    },
    {"id": "b", "conversations": [{"from": "human", "value": "Name a fruit."}, {"from": "gpt", "value": "A pear."}]},
]
KTO = [
    {"prompt": "Tell me about the film.", "completion": "A warm, funny film I loved.", "label": True},
    {"prompt": "Tell me about the book.", "completion": "Dull. Skip it.", "label": False},
    {"prompt": "Tell me about the play.", "completion": "A delight from start to end.", "label": True},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_sharegpt_is_read_as_chat_messages_and_gives_its_prompts(tmp_path):
    table = load_file(write_jsonl(tmp_path / "sharegpt.jsonl", SHAREGPT))
    assert detect(table).kind == "conversation"
    prepared = prepare(table)
    assert len(prepared.rows) == 2 and prepared.dropped == {}  # today every row would be dropped
    assert prepared.rows[0]["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "What colour is the sky?"},
        {"role": "assistant", "content": "Blue, on a clear day."},
    ]
    assert prepared.extraction.extracted == 2
    save_dataset(prepared, "sharegpt")
    prompts = read_prompts("sharegpt", "ppo")
    assert [p[-1]["content"] if isinstance(p, list) else p for p in prompts] == [
        "What colour is the sky?",
        "Name a fruit.",
    ]
    assert load_examples("sharegpt").format == "messages"


def test_unpaired_preferences_keep_their_label_and_sft_learns_only_the_desirable(tmp_path):
    table = load_file(write_jsonl(tmp_path / "kto.jsonl", KTO))
    found = detect(table)
    assert found.kind == "unpaired_preference" and found.columns["label"] == "label"
    prepared = prepare(table)
    assert prepared.kind == "unpaired_preference"
    assert [r["label"] for r in prepared.rows] == [True, False, True]
    save_dataset(prepared, "kto")
    examples = load_examples("kto")
    assert [r["completion"] for r in examples.rows] == ["A warm, funny film I loved.", "A delight from start to end."]
    assert len(read_prompts("kto", "ppo")) == 3  # every prompt serves RL, whatever its answer


def test_unpaired_preferences_with_no_desirable_row_are_refused_for_sft(tmp_path):
    save_dataset(prepare(load_file(write_jsonl(tmp_path / "bad.jsonl", [{**r, "label": False} for r in KTO]))), "bad")
    with pytest.raises(UserError, match="no desirable rows"):
        load_examples("bad")


def test_a_prompt_completion_table_without_a_true_false_label_stays_prompt_completion(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "label"} for r in KTO]
    assert detect(load_file(write_jsonl(tmp_path / "pc.jsonl", rows))).kind == "prompt_completion"
