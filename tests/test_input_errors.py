"""Odd input refused in one sentence before any work: deep JSON, non-UTF-8 files, pairs that aren't text,
settings no run can use, and an ``--out`` that couldn't be written."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from rlhf_playground import data
from rlhf_playground.cli import main
from rlhf_playground.config import config_from_args, from_dict, load_json
from rlhf_playground.data.pairs import read_pairs
from rlhf_playground.data.prompts import read_rows
from rlhf_playground.errors import UserError
from rlhf_playground.evaluation.compare import CompareConfig
from rlhf_playground.ppo.config import PPOStageConfig
from rlhf_playground.stages import reward
from rlhf_playground.stages.dpo import DPOStageConfig, read_preference_pairs
from rlhf_playground.stages.grpo import GRPOStageConfig
from rlhf_playground.stages.reward import RewardStageConfig
from rlhf_playground.stages.rloo import RLOOStageConfig
from rlhf_playground.stages.sft import SFTStageConfig

DEEP = 100_000
DEEP_LIST = "[" * DEEP + "]" * DEEP
DEEP_OBJECT = '{"a":' * DEEP + "1" + "}" * DEEP
CONFIGS = [
    SFTStageConfig,
    RewardStageConfig,
    DPOStageConfig,
    GRPOStageConfig,
    RLOOStageConfig,
    PPOStageConfig,
    CompareConfig,
]


def jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def error_line(capsys) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


# ------------------------------------------------------------------ deeply nested JSON
@pytest.mark.parametrize("deep", [DEEP_LIST, DEEP_OBJECT])
def test_deeply_nested_json_is_refused_by_the_loader(tmp_path, deep):
    (tmp_path / "x.json").write_text(deep, encoding="utf-8")
    with pytest.raises(UserError, match=r"^'x\.json' is nested too deeply"):
        data.load_file(tmp_path / "x.json")
    (tmp_path / "x.jsonl").write_text('{"prompt": "hi"}\n' + deep + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"^'x\.jsonl', line 2, is nested too deeply"):
        data.load_file(tmp_path / "x.jsonl")


def test_deeply_nested_dataset_path_is_refused_by_a_stage(tmp_path, capsys):
    path = tmp_path / "deep.jsonl"
    path.write_text(f'{{"prompt": {DEEP_OBJECT}}}\n', encoding="utf-8")
    with pytest.raises(UserError, match="line 1, is nested too deeply"):
        read_rows(str(path))
    assert main(["ppo", "--dataset", str(path)]) == 2
    assert error_line(capsys).startswith("error: 'deep.jsonl', line 1, is nested too deeply")


def test_deeply_nested_config_file_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(DEEP_LIST, encoding="utf-8")
    with pytest.raises(UserError, match="Can't read config file"):
        load_json(path)


# ------------------------------------------------------------------ text that isn't UTF-8
def test_a_dataset_path_that_isnt_utf8_is_refused(tmp_path, capsys):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"prompt": "café"}\n'.encode("latin-1"))
    with pytest.raises(UserError, match="isn't UTF-8 text"):
        read_rows(str(path))
    assert main(["ppo", "--dataset", str(path)]) == 2
    assert error_line(capsys) == "error: 'latin.jsonl' isn't UTF-8 text; re-save it as UTF-8."


def test_a_dataset_path_is_read_like_the_loader_reads_it(tmp_path):
    """The same decoding as the Data tab: a BOM or UTF-16 is fine, the line-by-line errors are the same."""
    path = tmp_path / "bom.jsonl"
    path.write_bytes('{"prompt": "hi"}\n'.encode("utf-16"))
    assert read_rows(str(path)) == [{"prompt": "hi"}]
    path.write_text('{"prompt": "hi"}\n[1]\n', encoding="utf-8-sig")
    with pytest.raises(UserError, match=r"'bom\.jsonl', line 2, isn't a JSON object"):
        read_rows(str(path))


# ------------------------------------------------------------------ preference pairs that aren't text
QUESTION = {"role": "user", "content": "q"}
NOT_TEXT = [
    {"chosen": 5, "rejected": "no"},
    {"chosen": {"text": "yes"}, "rejected": "no"},
    {"chosen": [1, 2], "rejected": "no"},
    {
        "chosen": [QUESTION, {"role": "assistant", "content": 5}],
        "rejected": [QUESTION, {"role": "assistant", "content": "b"}],
    },
    {
        "chosen": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a"}],
        "rejected": [{"role": "user", "content": 5}, {"role": "assistant", "content": "b"}],
    },
    {"prompt": 5, "chosen": "yes", "rejected": "no"},
    {"prompt": [{"role": "user", "content": ["parts"]}], "chosen": "yes", "rejected": "no"},
]
GOOD = [{"prompt": f"q{i}", "chosen": "yes", "rejected": "no"} for i in range(3)]


def test_reward_and_dpo_drop_pairs_that_arent_text(tmp_path):
    path = jsonl(tmp_path / "pairs.jsonl", GOOD + NOT_TEXT + [{"prompt": "q", "chosen": "yes"}])
    pairs, dropped = read_pairs(path)
    assert pairs == [(f"q{i}", "yes", "no") for i in range(3)]
    assert dropped == {"not text": len(NOT_TEXT), "empty response": 1}  # the last row has no rejected
    assert read_preference_pairs(path)[1] == dropped


def test_reward_stage_counts_pairs_that_arent_text_instead_of_failing(tmp_path, tiny_model_dir):
    from rlhf_playground.models import load_tokenizer

    config = RewardStageConfig(model=str(tiny_model_dir), dataset=jsonl(tmp_path / "p.jsonl", GOOD + NOT_TEXT))
    config.validate()
    train, held_out, dropped = reward.prepare_pairs(config, load_tokenizer(config.model))
    assert len(train) + len(held_out) == 3 and dropped == {"not text": len(NOT_TEXT)}


def table(rows, columns):
    return data.Table([{c: row.get(c) for c in columns} for row in rows], columns, "test")


def test_prepare_drops_pairs_and_chats_that_arent_text():
    rows = GOOD[:1] + [{"prompt": "q", **row} for row in NOT_TEXT]
    prepared = data.prepare(table(rows, ["prompt", "chosen", "rejected"]))
    assert len(prepared.rows) == 1 and prepared.dropped == {"not text": len(NOT_TEXT)}
    chats = [
        {"messages": [QUESTION, {"role": "assistant", "content": "a"}]},
        {"messages": [QUESTION, {"role": "assistant", "content": 5}]},
    ]
    prepared = data.prepare(table(chats, ["messages"]))
    assert len(prepared.rows) == 1 and prepared.dropped == {"not chat messages": 1}


def test_implicit_pairs_that_arent_text_are_dropped():
    rows = [
        {
            "chosen": [QUESTION, {"role": "assistant", "content": "a"}],
            "rejected": [QUESTION, {"role": "assistant", "content": "b"}],
        }
    ] + NOT_TEXT[:5]
    prepared = data.prepare(table(rows, ["chosen", "rejected"]))
    assert len(prepared.rows) == 1 and prepared.dropped == {"not text": 5}


# ------------------------------------------------------------------ settings no run can use
@pytest.mark.parametrize("cls", CONFIGS, ids=lambda cls: cls.__name__)
def test_every_float_setting_must_be_finite(cls):
    for f in dataclasses.fields(cls):
        if f.type in (float, "float"):
            for value in (float("inf"), float("-inf"), float("nan")):
                with pytest.raises(UserError, match=f"^The setting '{f.name}' must be a finite number"):
                    from_dict(cls, {f.name: value})


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda cls: cls.__name__)
def test_every_seed_must_fit_in_32_bits(cls):
    for seed in (-1, 2**32, 10**30):
        with pytest.raises(UserError, match="^The setting 'seed' must be a whole number from 0 to 4294967295"):
            from_dict(cls, {"seed": seed})
    assert from_dict(cls, {"seed": 0}).seed == 0 and from_dict(cls, {"seed": 2**32 - 1}).seed == 2**32 - 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sft", "--num-epochs", "inf"], "The setting 'num_epochs' must be a finite number, not inf."),
        (["reward", "--learning-rate", "nan"], "The setting 'learning_rate' must be a finite number, not nan."),
        (["compare", "--temperature", "1e999"], "The setting 'temperature' must be a finite number, not inf."),
        (["dpo", "--seed", "-1"], "The setting 'seed' must be a whole number from 0 to 4294967295, not -1."),
        (
            ["ppo", "--seed", "4294967296"],
            "The setting 'seed' must be a whole number from 0 to 4294967295, not 4294967296.",
        ),
    ],
)
def test_command_line_refuses_them_in_one_line(argv, message, capsys):
    assert main([*argv, "--dataset", "anything.jsonl"]) == 2
    assert error_line(capsys) == f"error: {message}"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--seed", "1.5"], "argument --seed: '1.5' is not a whole number"),
        (["ppo", "--learning-rate", "fast"], "argument --learning-rate: 'fast' is not a number"),
    ],
)
def test_a_value_of_the_wrong_kind_is_one_line_not_the_usage_text(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "usage:" not in err
    assert err.strip() == f"error: {message}; see python -m rlhf_playground {argv[0]} --help."


def test_config_file_values_are_checked_too(tmp_path):
    import argparse

    path = tmp_path / "c.json"
    path.write_text('{"num_epochs": Infinity}', encoding="utf-8")
    with pytest.raises(UserError, match="'num_epochs' must be a finite number"):
        config_from_args(SFTStageConfig, argparse.Namespace(config=str(path)))


# ------------------------------------------------------------------ compare --out
def compare_config(tiny_model_dir, out) -> CompareConfig:
    return CompareConfig(base=str(tiny_model_dir), prompts_text="hi", out=str(out))


def test_compare_out_in_a_folder_that_cant_exist_is_refused_before_the_comparison(tmp_path, tiny_model_dir, capsys):
    (tmp_path / "file.txt").write_text("not a folder", encoding="utf-8")
    with pytest.raises(UserError, match="isn't a folder"):
        compare_config(tiny_model_dir, tmp_path / "file.txt" / "results").validate()
    assert (
        main(
            [
                "compare",
                "--base",
                str(tiny_model_dir),
                "--prompts-text",
                "hi",
                "--out",
                str(tmp_path / "file.txt" / "sub" / "results"),
            ]
        )
        == 2
    )
    assert error_line(capsys) == (
        f"error: out '{tmp_path / 'file.txt' / 'sub' / 'results'}' can't be written: "
        f"{tmp_path / 'file.txt'} isn't a folder; pick another prefix."
    )


def test_compare_out_in_missing_folders_that_can_be_made_is_fine(tmp_path, tiny_model_dir):
    compare_config(tiny_model_dir, tmp_path / "new" / "deeper" / "results").validate()
    assert not (tmp_path / "new").exists()  # validating makes nothing


def test_compare_out_in_a_read_only_folder_is_refused(tmp_path, tiny_model_dir, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    access = os.access  # root may write anywhere: make the folder read-only for root too
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and Path(path) != folder)
    with pytest.raises(UserError, match=re.escape(f"the folder {folder} isn't writable")):
        compare_config(tiny_model_dir, folder / "sub" / "results").validate()


def test_compare_out_outside_the_workspace_is_refused_when_hosted(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("RLHF_HOSTED", "1")
    with pytest.raises(UserError, match=re.escape(f"local paths such as '{tmp_path}' can't be used")):
        compare_config(tiny_model_dir, tmp_path / "results").validate()
