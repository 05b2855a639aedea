"""SFT speed and memory: our stage against a plain TRL script doing the same steps.

For LoRA and QLoRA on the bundled SmolLM2-135M-Instruct (CPU unless a GPU is
present), each measurement runs in a fresh process so its peak RSS (the
high-water mark from ``getrusage``) is its own. Tokens/second is measured
per step (training tokens over step time), leaving out the first step
(warm-up) and model loading. The table shows the fastest step, which other
processes on the machine can only slow down, and the median in brackets;
"overhead" compares fastest steps and is what the run folder, our callback
and the stop checks cost per step. The plain script records a timestamp per
logged step and nothing else.

Usage: python benchmarks/sft_speed.py [--steps 20] [--modes lora,qlora] [--model default] [--threads N]

On a machine shared with other busy processes, ``--threads 1`` keeps torch's
worker threads from spinning against each other, which otherwise slows small
matmuls down by orders of magnitude and drowns the comparison in noise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "the model reads a question and writes a short helpful answer about water trees music "
    "cities numbers colors rivers stars bread light sound time"
).split()


def write_dataset(path: Path, rows: int = 64) -> Path:
    """Prompt/completion pairs of a steady length (about 25 + 75 tokens), so every step costs the same."""
    lines = []
    for i in range(rows):
        prompt = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(20)) + "?"
        completion = " " + " ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(60)) + "."
        lines.append(json.dumps({"prompt": prompt, "completion": completion}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def step_rates(points: list[tuple[float, float]]) -> dict[str, float]:
    """Fastest and median tokens/second between consecutive (seconds, cumulative tokens) points."""
    rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(points, points[1:]) if b[0] > a[0]]
    return {"best": max(rates), "median": statistics.median(rates)}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def measure_ours(config) -> dict:
    """The SFT stage as the CLI runs it, in this process, with a run folder."""
    from rlhf_playground.jobs.execute import run_stage
    from rlhf_playground.jobs.runs import list_runs, open_run
    from rlhf_playground.stages import sft

    if run_stage("sft", config, sft.run) != 0:
        raise SystemExit("our SFT run failed")
    metrics = open_run(list_runs("sft")[0]["id"]).metrics()
    return step_rates([(m["elapsed_s"], m["num_tokens"]) for m in metrics])


def measure_plain_trl(config) -> dict:
    """The same training written as a plain TRL script: same model loading, LoraConfig and SFTConfig values."""
    from datasets import Dataset
    from peft import LoraConfig, prepare_model_for_kbit_training
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from rlhf_playground.models import load_causal_lm

    class Clock(TrainerCallback):
        def __init__(self):
            self.points: list[tuple[float, float]] = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "num_tokens" in logs:
                self.points.append((time.perf_counter(), logs["num_tokens"]))

    rows = [json.loads(line) for line in Path(config.dataset).read_text().splitlines() if line]
    model, tokenizer = load_causal_lm(
        config.model,
        load_in_4bit=config.load_in_4bit,
        compute_dtype=config.compute_dtype,
        double_quant=config.double_quant,
    )
    if config.load_in_4bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    args = SFTConfig(
        output_dir=tempfile.mkdtemp(),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        max_steps=config.max_steps,
        max_length=config.max_length,
        seed=config.seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        activation_checkpointing=False,
        use_cpu=str(model.device) == "cpu",
        bf16=False,
        fp16=False,
    )
    clock = Clock()
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[clock],
    )
    trainer.train()
    return step_rates(clock.points)


def child(args) -> None:
    from rlhf_playground.stages.sft import SFTStageConfig

    config = SFTStageConfig(
        model=args.model,
        dataset=args.dataset,
        max_steps=args.steps,
        batch_size=args.batch_size,
        max_length=args.max_length,
        load_in_4bit=args.mode == "qlora",
        eval_prompts=0,
    )
    measured = (measure_ours if args.child == "ours" else measure_plain_trl)(config)
    print("RESULT " + json.dumps({**measured, "peak_rss_mb": peak_rss_mb()}), flush=True)


def spawn(kind: str, mode: str, args, dataset: Path, workspace: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--mode",
        mode,
        "--dataset",
        str(dataset),
        "--model",
        args.model,
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--max-length",
        str(args.max_length),
    ]
    env = {
        **os.environ,
        "RLHF_WORKSPACE": workspace,
        **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {}),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{kind} {mode} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--modes", default="lora,qlora")
    parser.add_argument("--model", default="default")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--child", choices=("ours", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    print(
        f"SFT on '{args.model}', {args.steps} steps, batch {args.batch_size}, max_length {args.max_length}, "
        f"threads {args.threads or 'default'}",
        file=sys.stderr,
    )
    rows = [
        "| mode | ours tok/s, best (median) | plain TRL tok/s, best (median) | overhead % "
        "| ours peak RSS MB | plain peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        dataset = write_dataset(Path(tmp) / "bench.jsonl")
        for mode in args.modes.split(","):
            ours = spawn("ours", mode, args, dataset, tmp)
            plain = spawn("plain", mode, args, dataset, tmp)
            overhead = (plain["best"] / ours["best"] - 1) * 100
            rows.append(
                f"| {mode} | {ours['best']:.0f} ({ours['median']:.0f}) | "
                f"{plain['best']:.0f} ({plain['median']:.0f}) | {overhead:+.1f} | "
                f"{ours['peak_rss_mb']:.0f} | {plain['peak_rss_mb']:.0f} |"
            )
            print(rows[-1], file=sys.stderr)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
