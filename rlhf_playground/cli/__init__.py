"""Command-line face: ``python -m rlhf_playground <command> ...``.

:data:`COMMAND_MODULES` is every command there is. A stage's command is made from the registry (its config's
fields as flags, its help line); any other command's module has a ``register(subparsers)`` function that adds
its parser and sets ``func``; ``func(args)`` returns an exit code.
Those modules keep heavy imports inside functions so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import UserError
from ..jobs.execute import register_stage
from ..registry import STAGES, config_class, run_function, stage_modules

COMMAND_MODULES = [
    "rlhf_playground.cli.data",
    *stage_modules(),
    "rlhf_playground.cli.resume",
    "rlhf_playground.cli.push",
    "rlhf_playground.cli.serve",
]
STAGE_COMMANDS = {stage.module: stage for stage in STAGES.values()}  # a stage's command comes from the registry
GLOBAL_FLAGS = ("--trust-remote-code",)


class Parser(argparse.ArgumentParser):
    """argparse that reports a wrong command line in one ``error:`` line (exit 2) instead of its usage text."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see {self.prog} --help.\n")


def build_parser(prog: str = "python -m rlhf_playground") -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="RLHF Playground: every stage of the RLHF pipeline.")
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="let Hub models run their own Python code (trust_remote_code), for this command and "
        "the jobs it starts; only for models whose authors you trust; refused in hosted mode",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        if name in STAGE_COMMANDS:
            stage = STAGE_COMMANDS[name]
            register_stage(subparsers, stage.name, config_class(stage.name), run_function(stage.name), help=stage.help)
        else:
            importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m rlhf_playground") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        if args.trust_remote_code:
            from ..models import allow_remote_code

            allow_remote_code()
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def with_default_command(argv: list[str]) -> list[str]:
    """``argv`` with ``serve`` put in where no command word is given: ``rlhf-playground --share`` serves."""
    flags = [a for a in argv if a in GLOBAL_FLAGS]
    rest = [a for a in argv if a not in GLOBAL_FLAGS]
    if not rest or rest[0].startswith("-") and rest[0] not in ("-h", "--help"):
        return [*flags, "serve", *rest]
    return argv


def console() -> None:
    """The ``rlhf-playground`` command (and ``python app.py``): the CLI, serving the app by default."""
    sys.exit(main(with_default_command(sys.argv[1:]), prog="rlhf-playground"))
