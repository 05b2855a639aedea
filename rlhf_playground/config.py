"""One config, three faces: a stage's settings as a dataclass, as CLI flags and as JSON.

A stage describes its settings once, as a dataclass whose fields have defaults
and ``metadata={"help": ...}``, plus a ``validate()`` method that raises
:class:`UserError` for impossible values. Everything else is derived here: the
argparse flags (``--lora-r 16``, ``--merge/--no-merge``), loading from a JSON
file with flags on top, the JSON dict stored with each run, and the shell
command that repeats a run from a terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shlex
import typing
from pathlib import Path
from typing import Any

from .errors import UserError

_SCALARS = (bool, int, float, str)
MAX_SEED = 2**32 - 1


def _field_types(cls) -> dict[str, type]:
    """Each field's type, with annotation strings (``from __future__ import annotations``) resolved."""
    hints = typing.get_type_hints(cls)
    types = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if kind not in _SCALARS:
            raise TypeError(f"{cls.__name__}.{f.name}: config fields must be bool, int, float or str")
        types[f.name] = kind
    return types


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def whole_number(text: str) -> int:
    """A flag's value as an int, or a sentence saying it isn't one (argparse adds the flag's name)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


PARSE = {int: whole_number, float: number, str: str}


def add_config_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """Add one flag per field, plus ``--config FILE.json``.

    Flags default to "not given" (``argparse.SUPPRESS``) so that
    :func:`config_from_args` can tell a flag typed on the command line from a
    default, and let flags override the file.
    """
    parser.add_argument(
        "--config", metavar="FILE.json", help="read settings from this JSON file; flags given as well win"
    )
    types = _field_types(cls)
    for f in dataclasses.fields(cls):
        kind = types[f.name]
        text = f.metadata.get("help", "")
        default = f" (default: {f.default!r})" if f.default is not dataclasses.MISSING else ""
        help_text = (text + default).replace("%", "%%")
        if kind is bool:
            parser.add_argument(
                flag(f.name),
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_text,
            )
        else:
            parser.add_argument(
                flag(f.name),
                dest=f.name,
                type=PARSE[kind],
                default=argparse.SUPPRESS,
                metavar=kind.__name__.upper(),
                help=help_text,
            )


def from_dict(cls, values: dict[str, Any]):
    """Build ``cls`` from a JSON-like dict, with numbers and booleans checked against the field types.

    Two rules hold for every config, so they live here rather than in each ``validate()``: a float
    is finite (argparse and JSON accept ``inf`` and ``nan``, which no setting can use) and a seed
    fits the 0..2**32-1 that numpy's seeding takes.
    """
    types = _field_types(cls)
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise UserError(f"Unknown setting(s) {', '.join(unknown)}. Known: {', '.join(types)}.")
    clean = {}
    for name, value in values.items():
        kind = types[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UserError(f"The setting '{name}' must be {kind.__name__}, not {value!r}.")
        if kind is float and not math.isfinite(value):
            raise UserError(f"The setting '{name}' must be a finite number, not {value}.")
        if name == "seed" and not 0 <= value <= MAX_SEED:
            raise UserError(f"The setting 'seed' must be a whole number from 0 to {MAX_SEED}, not {value}.")
        clean[name] = value
    return cls(**clean)


def to_dict(config) -> dict[str, Any]:
    return dataclasses.asdict(config)


def load_json(path: str | Path) -> dict[str, Any]:
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"Config file {path} doesn't exist.") from None
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
        raise UserError(f"Can't read config file {path}: {exc}") from None
    if not isinstance(values, dict):
        raise UserError(f"Config file {path} must hold one JSON object of settings.")
    return values


def config_from_args(cls, args: argparse.Namespace):
    """The config a command line asks for: defaults, then ``--config`` file, then flags."""
    values = load_json(args.config) if getattr(args, "config", None) else {}
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})
    return from_dict(cls, values)


def to_argv(config) -> list[str]:
    """The flags that rebuild ``config``: only values that differ from the defaults."""
    argv = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.default is not dataclasses.MISSING and value == f.default:
            continue
        if isinstance(value, bool):
            argv.append(flag(f.name) if value else "--no-" + f.name.replace("_", "-"))
        else:
            argv += [flag(f.name), str(value)]
    return argv


def to_command(stage: str, config) -> str:
    """The shell command that runs the same job from a terminal."""
    return shlex.join(["python", "-m", "rlhf_playground", stage, *to_argv(config)])


ACCELERATE_CONFIGS = ("ddp", "fsdp", "deepspeed-zero2", "deepspeed-zero3", "cpu-gloo")  # assets/accelerate/*.yaml


def to_accelerate_command(stage: str, config, accelerate_config: str = "ddp") -> str:
    """The same job through ``accelerate launch`` with one of the configs in ``assets/accelerate/``."""
    launch = ["accelerate", "launch", "--config_file", f"assets/accelerate/{accelerate_config}.yaml"]
    return shlex.join([*launch, "-m", "rlhf_playground", stage, *to_argv(config)])
