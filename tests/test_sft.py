"""The SFT stage: its config's three faces, its checks, and real (tiny) LoRA and QLoRA runs."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from rlhf_playground.config import add_config_arguments, config_from_args, to_accelerate_command, to_command
from rlhf_playground.errors import UserError
from rlhf_playground.jobs.execute import run_stage
from rlhf_playground.jobs.runs import list_runs, open_run
from rlhf_playground.models.generation import encode_prompt
from rlhf_playground.stages import sft
from rlhf_playground.stages.sft import SFTStageConfig

ROOT = Path(__file__).resolve().parent.parent


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def pairs_file(tmp_path) -> Path:
    rows = [
        {"prompt": f"hello {i} how are you", "completion": " the quick brown fox jumps over the dog"} for i in range(24)
    ]
    return write_jsonl(tmp_path / "pairs.jsonl", rows)


def tiny_config(model, dataset, **overrides) -> SFTStageConfig:
    settings = dict(
        model=str(model),
        dataset=str(dataset),
        max_steps=3,
        batch_size=4,
        max_length=64,
        eval_prompts=2,
        max_new_tokens=8,
        load_in_4bit=False,
    )
    return SFTStageConfig(**{**settings, **overrides})


def train(config: SFTStageConfig):
    assert run_stage("sft", config, sft.run) == 0
    return open_run(list_runs("sft")[0]["id"])


# ------------------------------------------------------------------ config faces
def sft_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, SFTStageConfig)
    return parser


def test_command_lists_only_changed_settings_and_parses_back():
    config = SFTStageConfig(dataset="my prompts.jsonl", lora_r=8, learning_rate=1e-4, load_in_4bit=False)
    command = to_command("sft", config)
    assert command == (
        "python -m rlhf_playground sft --dataset 'my prompts.jsonl' --lora-r 8 --learning-rate 0.0001 --no-load-in-4bit"
    )
    launched = "accelerate launch --config_file assets/accelerate/ddp.yaml -m rlhf_playground sft --dataset"
    assert to_accelerate_command("sft", config).startswith(launched)
    args = sft_parser().parse_args(shlex.split(command)[4:])
    assert config_from_args(SFTStageConfig, args) == config


def test_config_file_is_read_and_flags_win(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"dataset": "d", "lora_r": 4, "learning_rate": 1, "merge": True}))
    config = config_from_args(SFTStageConfig, sft_parser().parse_args(["--config", str(path), "--lora-r", "32"]))
    assert (config.lora_r, config.learning_rate, config.merge, config.dataset) == (32, 1.0, True, "d")
    path.write_text(json.dumps({"lora_rank": 4}))
    with pytest.raises(UserError, match="lora_rank"):
        config_from_args(SFTStageConfig, sft_parser().parse_args(["--config", str(path)]))


# ------------------------------------------------------------------ validate()
@pytest.mark.parametrize(
    "setting, value",
    [
        ("learning_rate", 0.0),
        ("learning_rate", -1e-4),
        ("lora_r", 0),
        ("lora_alpha", 0),
        ("lora_dropout", 1.0),
        ("batch_size", 0),
        ("grad_accum", 0),
        ("max_length", 4),
        ("num_epochs", 0.0),
        ("eval_prompts", -1),
        ("max_new_tokens", 0),
        ("logging_steps", 0),
        ("compute_dtype", "int3"),
        ("target_modules", " "),
        ("dataset", ""),
    ],
)
def test_impossible_settings_are_refused(setting, value, pairs_file):
    config = SFTStageConfig(**{"dataset": str(pairs_file), setting: value})
    with pytest.raises(UserError, match=setting):
        config.validate()


def test_max_length_shorter_than_a_prompt_names_the_numbers(tmp_path, tiny_model_dir):
    from transformers import AutoTokenizer

    prompt = "hello " * 40
    short = [{"prompt": f"hi {i}", "completion": " fox"} for i in range(100)]  # Start tokenizes only the longest
    data = write_jsonl(tmp_path / "long.jsonl", [*short[:60], {"prompt": prompt, "completion": " fox"}, *short[60:]])
    tokens = len(encode_prompt(AutoTokenizer.from_pretrained(tiny_model_dir), prompt, chat=False))
    with pytest.raises(UserError, match=f"max_length 16 is too short.* is {tokens} tokens.* {tokens + 1}"):
        tiny_config(tiny_model_dir, data, max_length=16).validate()


def test_dataset_without_answers_is_refused(tmp_path, tiny_model_dir):
    data = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": "hi"}, {"prompt": "there"}])
    with pytest.raises(UserError, match="nothing to learn from"):
        tiny_config(tiny_model_dir, data).validate()


def test_4bit_without_bitsandbytes_is_refused(monkeypatch, pairs_file, tiny_model_dir):
    from rlhf_playground import models

    monkeypatch.setattr(models.quantization, "bnb_status", lambda: (False, "bitsandbytes is not installed."))
    with pytest.raises(UserError, match="bitsandbytes is not installed"):
        tiny_config(tiny_model_dir, pairs_file, load_in_4bit=True).validate()


def test_dataset_formats_become_trainer_rows(tmp_path):
    chats = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}]
    prefs = [{"prompt": "p", "chosen": "good", "rejected": "bad"}]
    texts = [{"text": "one two three four five six", "label": 1}]
    assert sft.load_examples(str(write_jsonl(tmp_path / "c.jsonl", chats))).format == "messages"
    examples = sft.load_examples(str(write_jsonl(tmp_path / "p.jsonl", prefs)))
    assert examples.rows == [{"prompt": "p", "completion": "good"}]
    examples = sft.load_examples(str(write_jsonl(tmp_path / "t.jsonl", texts)))
    assert examples.rows == [{"text": "one two three four five six"}]


# ------------------------------------------------------------------ training
def test_lora_run_leaves_an_adapter_that_changes_the_model(pairs_file, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = train(tiny_config(tiny_model_dir, pairs_file, learning_rate=1e-2))
    status = run.status()
    assert status["state"] == "finished" and status["step"] == 3
    assert [m["step"] for m in run.metrics()] == [1, 2, 3]
    samples = json.loads((run.artifacts / "samples.json").read_text())
    assert len(samples) == 2 and {"prompt", "base", "tuned"} <= set(samples[0])

    ids = torch.tensor([[1, 5, 9, 13, 17]])
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    with torch.no_grad():
        before = base(ids).logits
        tuned = PeftModel.from_pretrained(base, str(run.artifacts / "adapter")).eval()
        after = tuned(ids).logits
    assert not torch.allclose(before, after)


def test_qlora_runs_on_cpu_and_merges(pairs_file, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    run = train(tiny_config(tiny_model_dir, pairs_file, load_in_4bit=True, merge=True, max_steps=2))
    assert run.status()["state"] == "finished"
    adapter = json.loads((run.artifacts / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == 16
    merged = AutoModelForCausalLM.from_pretrained(run.artifacts / "merged")
    assert not any(name.endswith("lora_A.weight") for name, _ in merged.named_parameters())


@pytest.mark.slow
def test_cli_trains_in_the_foreground_and_prints_the_run_folder(pairs_file, tiny_model_dir):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlhf_playground",
            "sft",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            str(pairs_file),
            "--max-steps",
            "3",
            "--eval-prompts",
            "1",
            "--max-new-tokens",
            "4",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    folder = Path(done.stdout.split("run folder: ", 1)[1].split()[0])
    assert (folder / "artifacts" / "adapter" / "adapter_model.safetensors").is_file()
    assert "step=3" in (folder / "log.txt").read_text()
    card = (folder / "artifacts" / "adapter" / "README.md").read_text()  # the job wrote the model card
    assert "supervised fine-tuning" in card and "| `max_steps` | `3` |" in card and "a local model" in card


def test_start_tokenizes_only_the_prompts_longest_in_characters_chats_included():
    from rlhf_playground.data.prompts import prompt_text
    from rlhf_playground.stages.sft import longest_prompts

    chat = [{"role": "user", "content": "a much longer question " * 5}]
    samples = [
        {"prompt": p, "shown": prompt_text(p) if p else "x" * 500} for p in ("short", None, chat, "a bit longer")
    ]
    assert longest_prompts(samples, count=2) == [chat, "a bit longer"]
