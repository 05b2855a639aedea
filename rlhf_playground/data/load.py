"""Reading datasets into a :class:`Table`: local files, the bundled samples or the Hub.

Everything ends up as a list of plain Python dicts, small enough to show, detect and
normalise in memory (files are capped by ``RLHF_MAX_FILE_MB``, hub loads by a row limit).
"""

from __future__ import annotations

import codecs
import functools
import json
import os
import re
from dataclasses import replace
from pathlib import Path

from ..errors import OFFLINE_HINT, UserError, is_offline_error
from ..sharing import hub
from ..workspace import SAMPLES_DIR
from .formats import Table, from_sharegpt, is_sharegpt

SAMPLES: dict[str, str] = {
    "prompts": "prompts.jsonl",
    "preference-chat": "preference_chat.jsonl",
    "preference-transcripts": "preference_transcripts.jsonl",
    "preference-sentiment": "preference_sentiment.jsonl",
    "reviews": "reviews.csv",
}
SUPPORTED = (
    ".csv",
    ".tsv",
    ".json",
    ".jsonl",
    ".ndjson",
    ".parquet",
    ".csv.gz",
    ".tsv.gz",
    ".json.gz",
    ".jsonl.gz",
    ".ndjson.gz",
)
HUB_DEFAULT_LIMIT = 1000
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def max_file_bytes() -> int:
    """The largest file we read, from ``RLHF_MAX_FILE_MB`` (default 200 MB, 20 MB in the hosted app)."""
    from ..hosting import is_hosted

    raw = os.environ.get("RLHF_MAX_FILE_MB") or ("20" if is_hosted() else "200")
    try:
        megabytes = float(raw)
    except ValueError:
        raise UserError(f"RLHF_MAX_FILE_MB must be a number of megabytes, not '{raw}'.") from None
    return int(megabytes * 1024 * 1024)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _file_type(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(SUPPORTED, key=len, reverse=True):
        if lower.endswith(suffix):
            return suffix
    raise UserError(f"'{name}' isn't a supported file type: use one of {', '.join(SUPPORTED)}.")


def _read_bytes(path: Path, gzipped: bool) -> bytes:
    limit = max_file_bytes()
    size = path.stat().st_size
    if size > limit:
        raise UserError(
            f"'{path.name}' is {_size(size)}, over the {_size(limit)} limit: "
            "use a smaller file or raise RLHF_MAX_FILE_MB."
        )
    data = path.read_bytes()
    if gzipped:
        import gzip
        import io
        import zlib

        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(limit + 1)
        except (OSError, EOFError, zlib.error):
            raise UserError(
                f"'{path.name}' isn't a readable gzip file: re-compress it or upload it uncompressed."
            ) from None
        if len(data) > limit:
            raise UserError(
                f"'{path.name}' unpacks to over the {_size(limit)} limit: use a smaller file or raise RLHF_MAX_FILE_MB."
            )
    return data


def _decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UserError(f"'{name}' isn't UTF-8 text; re-save it as UTF-8.") from None


def _check_row(row, number: int, name: str, unit: str = "line") -> dict:
    if not isinstance(row, dict):
        raise UserError(
            f"'{name}', {unit} {number}, isn't a JSON object: each row must be an object "
            'such as {"prompt": "..."}.'
        )
    return row


def _json_loads(text: str, where: str):
    """``json.loads``, refusing JSON nested deeper than Python's recursion limit (about 1000 levels), and a
    lone surrogate escape such as ``\\ud800``: half a character, which can't be shown or saved as UTF-8.

    ``where`` names the text in the message: ``"'x.json'"`` or ``"'x.jsonl', line 3,"``.
    """
    try:
        value = json.loads(text)
        if found := _SURROGATE_ESCAPE.search(text):
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise json.JSONDecodeError("a \\u escape that is half a character", text, found.start()) from None
    except RecursionError:
        raise UserError(
            f"{where} is nested too deeply to read: keep rows to a few levels of lists and objects."
        ) from None
    return value


def _read_jsonl(text: str, name: str, limit: int | None) -> list[dict]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if limit is not None and len(rows) >= limit:
            break
        try:
            row = _json_loads(line, f"'{name}', line {number},")
        except ValueError:
            raise UserError(
                f"'{name}', line {number}, isn't valid JSON: fix that line (each line must hold one JSON object)."
            ) from None
        rows.append(_check_row(row, number, name))
    return rows


def read_jsonl(path: Path) -> list[dict]:
    """A JSON Lines file's rows as they are: how stages read a dataset given as a path. Unlike
    :func:`load_file` there is no size cap and rows don't get each other's columns."""
    return _read_jsonl(_decode(path.read_bytes(), path.name), path.name, None)


def _read_json(text: str, name: str, limit: int | None) -> list[dict]:
    try:
        value = _json_loads(text, f"'{name}'")
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines saved as .json
            return _read_jsonl(text, name, limit)
        raise UserError(f"'{name}' isn't valid JSON (line {exc.lineno}: {exc.msg.lower()}).") from None
    if isinstance(value, dict):  # {"data": [...]}, {"train": [...]} and the like
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            value = lists[0]
        else:
            value = [value]
    if not isinstance(value, list):
        raise UserError(f"'{name}' must hold a list of JSON objects (rows).")
    value = value[:limit] if limit is not None else value
    return [_check_row(row, i, name, "row") for i, row in enumerate(value, 1)]


def _cell(text: str):
    """A CSV cell as the value it spells: int, float, bool, None (empty) or the text itself."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _read_csv(text: str, name: str, limit: int | None, delimiter: str) -> list[dict]:
    import csv
    import io
    import sys

    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])  # nothing but a BOM or blank space: no rows, said below
        rows = []
        for values in reader:
            if limit is not None and len(rows) >= limit:
                break
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise UserError(
                    f"'{name}', line {reader.line_num}, has {len(values)} fields but the header "
                    f"has {len(header)}: quote values that contain '{delimiter}'."
                )
            values += [""] * (len(header) - len(values))
            rows.append(dict(zip(header, values)))
    except csv.Error as exc:
        raise UserError(f"'{name}', line {reader.line_num}, isn't valid CSV: {exc}.") from None
    # A column is only converted when every value in it converts the same way.
    for column in header:
        converted = [_cell(r[column]) for r in rows]
        kinds = {type(v) for v in converted if v is not None}
        if kinds <= {int} or kinds <= {int, float} or kinds == {bool}:
            for r, v in zip(rows, converted):
                r[column] = v
        else:
            for r in rows:
                r[column] = r[column] if r[column] != "" else None
    return rows


def _read_parquet(data: bytes, name: str, limit: int | None) -> list[dict]:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError):
        raise UserError(f"'{name}' isn't a readable Parquet file: re-export it.") from None
    if limit is not None:
        table = table.slice(0, limit)
    return table.to_pylist()


def _table(rows: list[dict], source: str) -> Table:
    """Give every row every column (missing ones as None), columns in first-seen order; ShareGPT
    conversations become chat messages, as any chat."""
    if any(is_sharegpt(value) for row in rows for value in row.values()):
        rows = [from_sharegpt(row) for row in rows]
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    names = [str(c) for c in columns]
    return Table([{c: row.get(c) for c in names} for row in rows], names, source)


def load_file(path, *, limit: int | None = None) -> Table:
    """Read a CSV, TSV, JSON, JSON Lines or Parquet file (optionally gzipped)."""
    path = Path(path)
    name = path.name
    kind = _file_type(name)
    if not path.is_file():
        raise UserError(f"There is no file '{path}'.")
    data = _read_bytes(path, kind.endswith(".gz"))
    kind = kind.removesuffix(".gz")
    if not data.strip():
        raise UserError(f"'{name}' is empty: pick a file with some rows.")
    if kind == ".parquet":
        rows = _read_parquet(data, name, limit)
    else:
        text = _decode(data, name)
        if kind in (".csv", ".tsv"):
            rows = _read_csv(text, name, limit, "\t" if kind == ".tsv" else ",")
        elif kind == ".json":
            rows = _read_json(text, name, limit)
        else:
            rows = _read_jsonl(text, name, limit)
    if not rows:
        raise UserError(f"'{name}' has no rows: pick a file with some data in it.")
    return _table(rows, name)


def load_sample(name: str, limit: int | None = None) -> Table:
    """A bundled sample, parsed once per process: it is read-only and the same for everyone (a room loading
    it at once parsed it thirty times). The rows are shared: nothing may change them in place. ``limit`` may
    be passed by position, as a kept draft of a sample calls it again (:mod:`.drafts`)."""
    if name not in SAMPLES:
        raise UserError(f"There is no bundled sample '{name}': pick one of {', '.join(SAMPLES)}.")
    shared = _parsed_sample(name, limit)
    return replace(shared, rows=list(shared.rows), columns=list(shared.columns))


def is_bundled(table: Table) -> bool:
    """Whether ``table`` is a bundled sample as loaded: its rows the shared ones (not a filtered copy)."""
    if table.sample is None:
        return False
    shared = _parsed_sample(*table.sample).rows
    return len(table.rows) == len(shared) and all(mine is theirs for mine, theirs in zip(table.rows, shared))


@functools.lru_cache(maxsize=16)
def _parsed_sample(name: str, limit: int | None) -> Table:
    return replace(load_file(SAMPLES_DIR / SAMPLES[name], limit=limit), sample=(name, limit))


def load_hub(name: str, *, config: str | None = None, split: str = "train", limit: int | None = None) -> Table:
    """Stream the first ``limit`` rows (default 1000) of a Hub dataset split."""
    hub.check_repo(name, "dataset")
    import datasets

    limit = HUB_DEFAULT_LIMIT if limit is None else limit
    try:
        stream = datasets.load_dataset(name, config, split=split, streaming=True)
        rows = [dict(row) for row in stream.take(limit)]
    except Exception as exc:
        if is_offline_error(exc):
            raise UserError(f"Can't fetch '{name}': {OFFLINE_HINT}") from None
        if "scripts are no longer supported" in str(exc):
            raise UserError(
                f"'{name}' is built by a loading script, which the installed datasets library "
                "no longer runs: pick a dataset stored as data files (Parquet, JSON, CSV)."
            ) from None
        if not isinstance(exc, (ValueError, FileNotFoundError, datasets.exceptions.DatasetGenerationError)):
            raise
        # an unknown config or split, or no data files: datasets' first line names the valid ones
        raise UserError(
            f"Can't load '{name}' (config {config or 'default'}, split '{split}'): {str(exc).splitlines()[0][:300]}"
        ) from None
    if not rows:
        raise UserError(f"The '{split}' split of '{name}' has no rows.")
    return _table(rows, f"hub:{name}" + (f"/{config}" if config else "") + f":{split}")


def load_source(source: str, *, config: str | None = None, split: str = "train", limit: int | None = None) -> Table:
    """A file path, a bundled sample name, or else a Hub dataset name."""
    from ..hosting import check_local_path

    source = str(source).strip()
    if Path(source).is_file():
        check_local_path(source)
        return load_file(source, limit=limit)
    if source in SAMPLES:
        return load_sample(source, limit=limit)
    if not source:
        raise UserError(f"Name a file, a bundled sample ({', '.join(SAMPLES)}) or a Hub dataset.")
    looks_like_file = Path(source).suffix.lower() in {".txt", ".xlsx", ".xls", ".docx", ".pdf", ".zip", ".md"}
    if source.lower().endswith(SUPPORTED) or source.startswith((".", "/", "~")) or looks_like_file:
        raise UserError(f"There is no file '{source}'.")
    return load_hub(source, config=config, split=split, limit=limit)
