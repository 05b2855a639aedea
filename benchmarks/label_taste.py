"""Does a reward model learn one person's taste from ~30 labels? A scripted labeler answers the Label tab.

The labeler has a fixed taste (``--taste short``: the shorter answer; ``--taste positive``: the answer
the VADER lexicon finds more positive) and judges ``--labels`` pairs of the bundled SmolLM2's sampled
answers to the bundled prompts, through the same library calls as the tab's buttons (so every tenth
pair is a swapped repeat). The reward model is trained as *Train a reward model on my labels* trains
it (the MiniLM encoder, settings sized to the count, a fifth held out). Then ``--fresh`` more pairs,
never trained on, are labelled by the same taste, and the reward model's agreement with them is
reported with its count, next to the accuracy on the held-out fifth. While labelling, the labeler
"reads" each pair for ``--think`` seconds before choosing, and the wait for each next pair is timed
(the first pair loads the model and is reported apart). Usage:
    python benchmarks/label_taste.py [--labels 30] [--fresh 60] [--taste short] [--think 3]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=30)
    parser.add_argument("--fresh", type=int, default=60)
    parser.add_argument("--taste", choices=["short", "positive"], default="short")
    parser.add_argument("--think", type=float, default=3.0, help="seconds a person takes to read a pair")
    args = parser.parse_args()
    os.environ["RLHF_WORKSPACE"] = tempfile.mkdtemp(prefix="label-taste-")
    from rlhf_playground import labels
    from rlhf_playground.config import to_command
    from rlhf_playground.data.prompts import prompt_text
    from rlhf_playground.jobs import list_runs, open_run
    from rlhf_playground.labels import learn
    from rlhf_playground.labels.pair_source import forget_sources
    from rlhf_playground.rewards.scorers import make_scorer

    def prefers_a(pair) -> bool:
        if args.taste == "short":
            return len(pair.a) < len(pair.b)
        a, b = pair.scores["lexicon"]
        return a > b

    target = labels.personal("taste", "default", labels.BUNDLED_PROMPTS, labels.Sampling())
    started, waits = time.monotonic(), []
    for _ in range(args.labels):
        asked = time.monotonic()
        pair = labels.next_pair(target)
        waits.append(time.monotonic() - asked)
        time.sleep(args.think)
        labels.choose(target, pair.id, "a" if prefers_a(pair) else "b")
    stats = labels.stats(target)
    later = sorted(waits[1:])
    print(
        f"labelled {stats['pairs']} pairs in {time.monotonic() - started:.0f} s; "
        f"consistency {labels.share(stats['consistency'])}; first pair after {waits[0]:.1f} s, then the next "
        f"pair after median {later[len(later) // 2]:.2f} s (max {later[-1]:.2f} s, {sum(w > 1 for w in later)} "
        f"of {len(later)} over 1 s) with {args.think:g} s to read each"
    )

    config = learn.reward_config(target.labels())
    argv = shlex.split(to_command("reward", config))[1:]
    started = time.monotonic()
    subprocess.run([sys.executable, *argv], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    run_id = list_runs("reward")[0]["id"]
    report = open_run(run_id).read_eval()
    print(f"reward model trained in {time.monotonic() - started:.0f} s: {learn.held_out_line(run_id)}")

    scorer = make_scorer(f"reward:{run_id}")
    fresh = labels.personal("fresh", "default", labels.BUNDLED_PROMPTS, labels.Sampling())
    agreed = judged = 0
    seen = {row["pair_id"] for row in target.labels().rows()}
    while judged < args.fresh:
        pair = labels.next_pair(fresh)
        labels.choose(fresh, pair.id, "skip")
        if pair.id in seen or pair.repeat_of:
            continue
        text = prompt_text(pair.prompt)
        a, b = scorer.score([text, text], [pair.a, pair.b])
        if a != b:
            judged += 1
            agreed += (a > b) == prefers_a(pair)
    print(
        f"taste '{args.taste}': held-out fifth {report['accuracy']:.0%} of {report['n_eval']}; "
        f"fresh pairs {agreed}/{judged} ({agreed / judged:.0%})"
    )
    forget_sources(wait=True)  # no generation left running as the interpreter exits


if __name__ == "__main__":
    main()
