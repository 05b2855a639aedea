"""PPO speed: our compact PPO against the last PPO that TRL shipped (``trl.experimental.ppo``, trl 0.29.1).

Both train the same policy (the bundled SmolLM2-135M-Instruct, LoRA r=16 on all linear layers,
float32 on CPU) against the same reward model (SmolLM2-135M with a fresh one-output head, made
once with a fixed seed and saved into a temporary folder), with the same batch size, answer
length, PPO epochs and mini-batches. Answers have a fixed length in both: TRL runs with
``stop_token=None`` (it never stops early), ours with ``min_new_tokens = max_new_tokens`` (EOS
can't come before the last token). TRL's ``gradient_checkpointing`` is
turned off so that neither recomputes. Both run plain float32, or with ``--dtype bfloat16`` each in its own way:
TRL with its Trainer's ``bf16`` (autocast over float32 weights), ours with the base weights loaded in bfloat16
(``compute_dtype``; the adapter and value head stay float32).

What differs by design, and is part of what is measured: TRL keeps a separate value model (a
full copy of the reward model's network, all of it trained) and reads the reward model on the
policy's token ids; ours has a value head on the policy's last hidden state and its reward
scorer reads the decoded text (re-tokenized, as for any reward model).

TRL 0.29.1 is installed by this script into its own virtual environment (``benchmarks/.venv-trl029``,
git-ignored) so that it never touches the project's environment. Each side runs in a fresh process.
Samples/second = answers generated and trained on per second, per PPO step; the first step
(warm-up) is left out; the table shows the median step and the fastest step.

Usage: python benchmarks/ppo_vs_trl.py [--steps 4] [--batch-size 8] [--response-length 24]
       [--ppo-epochs 2] [--mini-batches 2] [--threads 2] [--rounds 1] [--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRL_VENV = ROOT / "benchmarks" / ".venv-trl029"
TRL_PACKAGES = [
    "torch==2.13.0",
    "trl==0.29.1",
    "transformers==5.23.0",
    "peft==0.21.2",
    "accelerate==1.15.0",
    "datasets",
]
LORA = dict(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


# ------------------------------------------------------------------ setup (project venv)
def ensure_trl_venv() -> Path:
    python = TRL_VENV / "bin" / "python"
    check = [str(python), "-c", "import trl, sys; sys.exit(trl.__version__ != '0.29.1')"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing trl 0.29.1 into {TRL_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(TRL_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *TRL_PACKAGES], check=True)
    return python


def make_reward_model(folder: Path, policy_dir: str) -> None:
    """SmolLM2-135M with a fresh one-output head (seed 0): a reward model both trainers can load."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(policy_dir, num_labels=1, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(policy_dir)
    model.config.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def bundled_prompts() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from rlhf_playground.data import extract_prompt

    lines = (ROOT / "rlhf_playground" / "samples" / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    prompts = [extract_prompt(json.loads(line)["prompt"])[0] for line in lines]
    return [p for p in prompts if p]


# ------------------------------------------------------------------ workers (one process each)
def rates(times: list[float], batch: int) -> dict:
    measured = times[1:]  # the first step is warm-up
    return {"step_times_s": times, "median_sps": batch / statistics.median(measured), "best_sps": batch / min(measured)}


class Timer:
    """Seconds spent inside wrapped callables, by name."""

    def __init__(self):
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, fn, train_name: str | None = None):
        """``fn`` timed under ``name``; with ``train_name``, calls made with gradients on count under that."""
        import torch

        def timed(*args, **kwargs):
            key = train_name if train_name and torch.is_grad_enabled() else name
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[key] = self.spent.get(key, 0.0) + time.perf_counter() - began

        return timed

    def take(self) -> dict[str, float]:
        spent, self.spent = self.spent, {}
        return spent


def worker_ours(args, job: dict) -> dict:
    import torch

    sys.path.insert(0, str(ROOT))
    from rlhf_playground.models import load_causal_lm
    from rlhf_playground.ppo.config import PPOStageConfig
    from rlhf_playground.ppo.trainer import PPOTrainer
    from rlhf_playground.rewards.scorers import make_scorer

    torch.set_num_threads(args.threads)
    config = PPOStageConfig(
        model=job["policy"],
        reward=f"reward:{job['reward']}",
        steps=args.steps + 1,
        batch_size=args.batch_size,
        mini_batch_size=args.batch_size // args.mini_batches,
        ppo_epochs=args.ppo_epochs,
        learning_rate=1e-5,
        max_new_tokens=args.response_length,
        lora_r=LORA["r"],
        lora_alpha=LORA["lora_alpha"],
        lora_dropout=LORA["lora_dropout"],
        init_kl_coef=0.05,
        seed=0,
        compute_dtype=args.dtype,
    )
    model, tokenizer = load_causal_lm(job["policy"], compute_dtype=args.dtype)
    model.generation_config.min_new_tokens = args.response_length  # fixed length, as TRL without stop token
    trainer = PPOTrainer(config, model, tokenizer, make_scorer(config.reward), job["prompts"])
    timer = Timer()
    trainer.generate = timer.wrap("generate", trainer.generate)
    trainer.forward = timer.wrap("policy/ref forward (rollout)", trainer.forward, "training forward")
    trainer.scorer.score = timer.wrap("reward model (decode, re-tokenize, score)", trainer.scorer.score)
    times, parts, lengths = [], [], []
    for _ in range(args.steps + 1):
        began = time.perf_counter()
        stats = trainer.step()
        times.append(time.perf_counter() - began)
        lengths.append(stats["response_length_mean"])
        parts.append(timer.take())
    return {"name": "ours", **rates(times, args.batch_size), "parts": parts, "answer_lengths": lengths}


def worker_trl(args, job: dict) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback
    from trl.experimental.ppo import PPOConfig, PPOTrainer
    from trl.experimental.ppo import ppo_trainer as trl_ppo

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(job["policy"], padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    policy = AutoModelForCausalLM.from_pretrained(job["policy"], dtype=torch.float32)
    value_model = AutoModelForSequenceClassification.from_pretrained(job["reward"], num_labels=1, dtype=torch.float32)
    reward_model = AutoModelForSequenceClassification.from_pretrained(job["reward"], num_labels=1, dtype=torch.float32)

    def encode(row):
        messages = [{"role": "user", "content": row["prompt"]}]
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return {"input_ids": tokenizer(text, add_special_tokens=False)["input_ids"][-128:]}

    data = Dataset.from_dict({"prompt": job["prompts"]}).map(encode, remove_columns=["prompt"])
    steps = args.steps + 1
    config = PPOConfig(
        output_dir=job["out"],
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=1,
        num_mini_batches=args.mini_batches,
        num_ppo_epochs=args.ppo_epochs,
        total_episodes=steps * args.batch_size,
        local_rollout_forward_batch_size=args.batch_size,
        response_length=args.response_length,
        stop_token=None,
        missing_eos_penalty=None,
        learning_rate=1e-5,
        kl_coef=0.05,
        num_sample_generations=0,
        gradient_checkpointing=False,
        bf16=args.dtype == "bfloat16",  # mixed precision, as TRL's Trainer does it (autocast over float32 weights)
        fp16=False,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=0,
        disable_tqdm=True,
    )
    timer = Timer()
    trl_ppo.batch_generation = timer.wrap("generate", trl_ppo.batch_generation)
    trl_ppo.get_reward = timer.wrap("reward + value model (rollout)", trl_ppo.get_reward)
    trl_ppo.forward = timer.wrap("policy/ref forward (rollout)", trl_ppo.forward, "training forward")

    marks, parts = [], []

    class Clock(TrainerCallback):
        def on_train_begin(self, *a, **k):
            marks.append(time.perf_counter())

        def on_step_end(self, *a, **k):
            marks.append(time.perf_counter())
            parts.append(timer.take())
            print(f"trl step {len(marks) - 1}: {marks[-1] - marks[-2]:.1f} s {parts[-1]}", flush=True)

    trainer = PPOTrainer(
        args=config,
        processing_class=tokenizer,
        model=policy,
        ref_model=None,
        reward_model=reward_model,
        train_dataset=data,
        value_model=value_model,
        eval_dataset=data.select(range(args.batch_size)),
        peft_config=LoraConfig(**LORA),
        callbacks=[Clock()],
    )
    timer.take()
    trainer.train()
    times = [b - a for a, b in zip(marks, marks[1:])]
    return {"name": "trl 0.29.1", **rates(times, args.batch_size), "parts": parts}


# ------------------------------------------------------------------ driver
def run_worker(python: str, kind: str, args, job: dict, folder: Path) -> dict:
    job_file, out_file = folder / f"job-{kind}.json", folder / f"result-{kind}.json"
    job_file.write_text(json.dumps({**job, "result": str(out_file)}), encoding="utf-8")
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--job",
        str(job_file),
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--response-length",
        str(args.response_length),
        "--ppo-epochs",
        str(args.ppo_epochs),
        "--mini-batches",
        str(args.mini_batches),
        "--threads",
        str(args.threads),
        "--dtype",
        args.dtype,
    ]
    env = {
        **os.environ,
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": str(args.threads),
    }
    print(f"--- {kind}: load average {os.getloadavg()}", flush=True)
    proc = subprocess.run(cmd, env=env)  # its output goes straight to ours, so a slow run shows progress
    if proc.returncode != 0:
        raise SystemExit(f"the {kind} run failed (exit {proc.returncode})")
    result = json.loads(out_file.read_text(encoding="utf-8"))
    result["load_after"] = os.getloadavg()
    steps = ", ".join(f"{t:.1f}" for t in result["step_times_s"])
    print(f"{result['name']}: step times {steps} s; median {result['median_sps']:.3f} samples/s", flush=True)
    if "answer_lengths" in result:
        print(f"  answer lengths: {result['answer_lengths']}")
    for i, part in enumerate(result["parts"]):
        total = result["step_times_s"][i]
        rest = total - sum(part.values())
        print(
            f"  step {i + 1} ({total:.1f} s): "
            + ", ".join(f"{k} {v:.1f} s" for k, v in part.items())
            + f", backward + optimizer + other {rest:.1f} s"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4, help="measured PPO steps (after one warm-up step)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--response-length", type=int, default=24)
    parser.add_argument("--ppo-epochs", type=int, default=2)
    parser.add_argument("--mini-batches", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32", help="both sides compute in it")
    parser.add_argument("--rounds", type=int, default=1, help="run ours, TRL, ... this many times each, alternating")
    parser.add_argument("--worker", choices=["ours", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        job = json.loads(Path(args.job).read_text(encoding="utf-8"))
        result = (worker_ours if args.worker == "ours" else worker_trl)(args, job)
        Path(job["result"]).write_text(json.dumps(result), encoding="utf-8")
        return

    sys.path.insert(0, str(ROOT))
    from rlhf_playground.models import default_model_dir

    trl_python = ensure_trl_venv()
    policy = str(default_model_dir())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_reward_model(folder / "reward", policy)
        job = {
            "policy": policy,
            "reward": str(folder / "reward"),
            "prompts": bundled_prompts()[:64],
            "out": str(folder / "trl-out"),
        }
        for _ in range(args.rounds):
            results.append(run_worker(sys.executable, "ours", args, job, folder))
            results.append(run_worker(str(trl_python), "trl", args, job, folder))

    ours = [r for r in results if r["name"] == "ours"]
    trl = [r for r in results if r["name"] != "ours"]
    best = lambda rs, key: max(r[key] for r in rs)  # noqa: E731  across rounds: the least disturbed run
    print(
        f"\nbatch {args.batch_size}, {args.response_length} answer tokens, {args.ppo_epochs} PPO epochs x "
        f"{args.mini_batches} mini-batches, {args.steps} measured steps after 1 warm-up, {args.threads} threads, "
        f"{args.rounds} round(s)"
    )
    print("| trainer | samples/s (median step) | samples/s (fastest step) | load avg after (1/5/15) |")
    print("|---|---|---|---|")
    for r in results:
        load = "/".join(f"{x:.2f}" for x in r["load_after"])
        print(f"| {r['name']} | {r['median_sps']:.3f} | {r['best_sps']:.3f} | {load} |")
    print(
        f"| **ours / TRL** | {best(ours, 'median_sps') / best(trl, 'median_sps'):.2f}x | "
        f"{best(ours, 'best_sps') / best(trl, 'best_sps'):.2f}x | |"
    )


if __name__ == "__main__":
    main()
