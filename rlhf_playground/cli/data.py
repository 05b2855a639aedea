"""``python -m rlhf_playground data prepare SOURCE --out DIR``: the Data tab from the command line."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="load, detect, extract prompts and save datasets")
    commands = parser.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    prep = commands.add_parser(
        "prepare",
        help="normalise a dataset into TRL's format",
        description="Load SOURCE (a file, a bundled sample name or a Hub dataset), detect its kind, "
        "extract prompts and write DIR/data.jsonl and DIR/meta.json. "
        "Prints one JSON line with the summary.",
    )
    prep.add_argument("source", metavar="SOURCE")
    prep.add_argument("--out", required=True, metavar="DIR", help="folder to write (replaced if it is a dataset)")
    prep.add_argument("--config", help="Hub dataset config")
    prep.add_argument("--split", default="train", help="Hub dataset split (default: train)")
    prep.add_argument("--limit", type=int, help="read at most N rows (Hub default: 1000)")
    prep.add_argument("--column", help="column holding the text or prompts")
    prep.add_argument("--marker", help="the prompt is the text after this marker")
    prep.add_argument("--regex", help="the prompt is this regex's first group (or whole match)")
    prep.add_argument("--name", help="also save into the workspace under this name")
    prep.set_defaults(func=run_prepare)


def run_prepare(args: argparse.Namespace) -> int:
    from ..data import load_source, prepare, save_dataset, write_prepared
    from ..errors import UserError
    from ..workspace import datasets_dir, safe_name

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    if args.name:  # checked before anything is written
        name = safe_name(args.name, "dataset name")
        if (datasets_dir() / name).exists():
            raise UserError(f"A dataset named '{name}' already exists: pick another name.")
    table = load_source(args.source, config=args.config, split=args.split, limit=args.limit)
    prepared = prepare(table, column=args.column, marker=args.marker, regex=args.regex)
    out = write_prepared(prepared, args.out)
    result = {**prepared.summary(), "out": str(out)}
    if args.name:
        result["saved"] = str(save_dataset(prepared, args.name))
    print(json.dumps(result))
    return 0
