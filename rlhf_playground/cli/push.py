"""``python -m rlhf_playground push RUN --repo NAME`` (or ``push --dataset NAME --repo NAME``): share to the Hub.

The token is ``HF_TOKEN``, or the one ``hf auth login`` saved; ``--zip`` writes the run as one zip instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    help_text = "push a finished run's adapter (with its model card) or a saved dataset to the Hugging Face Hub"
    parser = subparsers.add_parser("push", help=help_text, description=help_text)
    parser.add_argument("run", metavar="RUN", nargs="?", help="the run's id (its folder name) or its folder")
    parser.add_argument("--dataset", metavar="NAME", help="push this saved dataset (Data or Label tab) instead")
    parser.add_argument("--repo", metavar="NAME", help="the Hub repository, e.g. your-name/my-ppo-model")
    parser.add_argument("--private", action="store_true", help="make the repository private")
    parser.add_argument("--card-only", action="store_true", help="only write the model card into the run folder")
    parser.add_argument("--zip", metavar="DIR", type=Path, help="write the run as DIR/<run id>.zip instead")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    from huggingface_hub import get_token

    from ..errors import UserError
    from ..jobs.runs import open_run
    from ..sharing.share import push_dataset, push_run, run_zip, write_model_card

    if bool(args.run) == bool(args.dataset):
        raise UserError("Name either a run (push RUN --repo NAME) or a dataset (push --dataset NAME --repo NAME).")
    if args.dataset:
        print(push_dataset(args.dataset, args.repo, get_token(), private=args.private))
        return 0
    run = open_run(args.run)
    if args.zip:
        args.zip.mkdir(parents=True, exist_ok=True)
        print(run_zip(run, args.zip))
    elif args.card_only:
        print(write_model_card(run, args.repo))
    else:
        print(push_run(run, args.repo, get_token(), private=args.private))
    return 0
