"""Command-line face: ``python -m rlhf_playground <command> ...``.

Each command lives in its own module with a ``register(subparsers)`` function
that adds its parser and sets ``func``; ``func(args)`` returns an exit code.
Those modules keep heavy imports inside functions so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import UserError
from .registry import stage_modules

COMMAND_MODULES = ["rlhf_playground.data.cli", *stage_modules(), "rlhf_playground.jobs.resume_cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rlhf_playground", description="RLHF Playground: every stage of the RLHF pipeline."
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="let Hub models run their own Python code (trust_remote_code), for this command and "
        "the jobs it starts; only for models whose authors you trust; refused in hosted mode",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.trust_remote_code:
            from .models import allow_remote_code

            allow_remote_code()
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
