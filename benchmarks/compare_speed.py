"""Compare speed: our batched comparison against one pipeline call per prompt and per model.

The course compares a base and a tuned model by building a ``pipeline("text-generation")``
for each (the tuned one from the merged LoRA model) and calling it prompt by prompt.
:func:`rlhf_playground.evaluation.compare.compare` loads the base once, attaches the adapter to it
and generates left-padded batches. Both answer the same prompts (the first 32 of the
bundled ``prompts.jsonl``, markers stripped, as chat messages) greedily, with the same
``max_new_tokens``, on the bundled SmolLM2-135M-Instruct and a LoRA adapter with random
(nonzero) weights. Times are end to end: model loading, merging and scoring included.

Greedy answers should be identical. Where they differ, padding (or merging W + BA into
one matrix) changed some float rounding enough to flip one argmax; the script reports
how many match and how far the differing ones agree, and exits with status 1 when
fewer than 90% match for a model (more than rounding can explain).

Usage: python benchmarks/compare_speed.py [--prompts 32] [--max-new-tokens 32] [--batch-size 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_bundled_prompts(n: int) -> list[str]:
    from rlhf_playground.data import extract_prompt

    lines = (ROOT / "rlhf_playground" / "samples" / "prompts.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line]
    prompts = [extract_prompt(row["prompt"])[0] for row in rows]
    return [p for p in prompts if p][:n]


def save_random_adapter(folder: Path) -> Path:
    """A LoRA adapter on every linear layer with random A and B, small enough to keep answers readable."""
    import torch
    from peft import LoraConfig, get_peft_model

    from rlhf_playground.models import load_causal_lm

    model, tokenizer = load_causal_lm("default")
    torch.manual_seed(0)
    model = get_peft_model(
        model,
        LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM"),
    )
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.mul_(0.3)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def run_ours(prompts: list[str], adapter: Path, max_new_tokens: int, batch_size: int) -> dict[str, list[str]]:
    from rlhf_playground.evaluation.compare import CompareConfig, compare

    config = CompareConfig(
        base="default",
        tuned=str(adapter),
        prompts_text="\n".join(prompts),
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        temperature=0.0,
    )
    result = compare(config)
    return {name: [row["outputs"][name]["response"] for row in result.rows] for name in result.models}


def run_pipelines(prompts: list[str], adapter: Path, max_new_tokens: int) -> dict[str, list[str]]:
    """The course's way: a pipeline for the base, one for the merged tuned model, one call per prompt."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    from rlhf_playground.models import default_model_dir
    from rlhf_playground.rewards.scorers import make_scorer

    path = str(default_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(path)
    base = pipeline("text-generation", model=path, tokenizer=tokenizer, device="cpu")
    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(path), str(adapter)).merge_and_unload()
    tuned = pipeline("text-generation", model=merged, tokenizer=tokenizer, device="cpu")
    scorer = make_scorer("lexicon")
    answers = {}
    for name, pipe in (("base", base), (adapter.name, tuned)):
        texts = []
        for prompt in prompts:
            out = pipe(
                [{"role": "user", "content": prompt}],
                max_new_tokens=max_new_tokens,
                do_sample=False,
                return_full_text=False,
            )[0]["generated_text"]
            texts.append((out[-1]["content"] if isinstance(out, list) else out).strip())
        scorer.describe(prompts, texts)  # as ours does, so both times include scoring
        answers[name] = texts
    return answers


def agreement(ours: list[str], theirs: list[str]) -> dict:
    same = sum(a == b for a, b in zip(ours, theirs))
    prefixes = [len(os.path.commonprefix([a, b])) / max(len(a), len(b), 1) for a, b in zip(ours, theirs) if a != b]
    return {
        "identical": same,
        "of": len(ours),
        "shared_prefix_of_differing": round(sum(prefixes) / len(prefixes), 2) if prefixes else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared, busy machine)")
    args = parser.parse_args()

    import torch
    from transformers.utils import logging

    torch.set_num_threads(args.threads)
    logging.set_verbosity_error()
    prompts = load_bundled_prompts(args.prompts)
    with tempfile.TemporaryDirectory() as tmp:
        adapter = save_random_adapter(Path(tmp) / "random-lora")
        start = time.perf_counter()
        ours = run_ours(prompts, adapter, args.max_new_tokens, args.batch_size)
        ours_s = time.perf_counter() - start
        start = time.perf_counter()
        theirs = run_pipelines(prompts, adapter, args.max_new_tokens)
        theirs_s = time.perf_counter() - start
    report = {
        "prompts": len(prompts),
        "max_new_tokens": args.max_new_tokens,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "load_average": round(os.getloadavg()[0], 2),
        "ours_s": round(ours_s, 1),
        "pipelines_s": round(theirs_s, 1),
        "speedup": round(theirs_s / ours_s, 2),
        "tuned_differs_from_base": sum(a != b for a, b in zip(*ours.values())),
        "greedy_agreement": {name: agreement(ours[name], theirs[name]) for name in ours},
    }
    print(json.dumps(report, indent=2))
    agreeing = all(a["identical"] >= 0.9 * a["of"] for a in report["greedy_agreement"].values())
    return 0 if agreeing else 1


if __name__ == "__main__":
    sys.exit(main())
