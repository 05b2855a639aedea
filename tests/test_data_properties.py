"""Property-based tests: random rows, types, encodings and broken files through the data pipeline.

Whatever a person uploads, loading, detection, prompt extraction, preparation and
saving either work or raise a :class:`UserError` with a message; any other
exception is a bug. Each ``@example`` is a file that once crashed.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from rlhf_playground import data
from rlhf_playground.data.store import write_prepared
from rlhf_playground.errors import UserError

# No example database: a failure prints its example, to keep as an @example.
SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN_KEYS = [
    "prompt",
    "chosen",
    "rejected",
    "completion",
    "messages",
    "text",
    "label",
    "score",
    "question",
    "response",
    "role",
    "content",
    "conversations",
    "review",
]
MARKERS = ["Human:", "###Human:", "### Human:", "Assistant:", "Input=", "Output=", "{{Text}}:", "\n\nHuman: "]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=5),
    st.sampled_from(["", " ", "\x00", "\ufeff", "\r\n", *MARKERS]),
    st.integers(1000, 20000).map(lambda n: "long " * n),
    st.lists(st.sampled_from(MARKERS + ["hi", " ", "\n"]), max_size=6).map("".join),
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.one_of(st.sampled_from(["user", "assistant", "system"]), scalars), "content": scalars}
    ),
    max_size=4,
)
values = st.recursive(
    scalars | messages,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Column sets of real layouts, so that some random tables get as far as preparation.
LAYOUTS = [
    ("prompt",),
    ("prompt", "chosen", "rejected"),
    ("chosen", "rejected"),
    ("prompt", "completion"),
    ("messages",),
    ("text", "label"),
    ("text",),
    ("question", "response"),
    ("review", "score"),
]


@st.composite
def rows(draw) -> list[dict]:
    """One to six rows: with the columns of a known layout (any values in them) or any columns at all."""
    layout = draw(st.none() | st.sampled_from(LAYOUTS))
    if layout is None:
        row = st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=10), values, max_size=5)
    else:
        row = st.fixed_dictionaries({k: st.text() | values for k in layout}, optional={"extra": values})
    return draw(st.lists(row, min_size=1, max_size=6))


# Mostly UTF-8, which is what gets through to detection and preparation.
encodings = st.sampled_from(["utf-8"] * 8 + ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"])


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)  # NaN and Infinity written as Python does


def _csv(table: list[dict], delimiter: str) -> str:
    columns = list(dict.fromkeys(k for row in table for k in row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    for row in table:
        writer.writerow([row.get(c) if isinstance(row.get(c), str) else _json(row.get(c)) for c in columns])
    return out.getvalue()


@st.composite
def files(draw) -> tuple[str, bytes]:
    """A file name and its bytes: well-formed or not, in some encoding, maybe cut short or with junk in it."""
    table = draw(rows())
    suffix = draw(st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".ndjson"]))
    if suffix in (".csv", ".tsv"):
        text = _csv(table, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".json":
        text = _json(draw(st.sampled_from([table, {"data": table}, table[:1] and table[0]])))
    else:
        text = "".join(_json(row) + draw(st.sampled_from(["\n", "\r\n", "\n\n"])) for row in table)
    raw = text.encode(draw(encodings), errors="replace")
    if draw(st.integers(0, 3)) == 0:
        raw = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])) + raw
    if len(raw) > 1 and draw(st.integers(0, 3)) == 0:  # cut short, as by an interrupted download
        raw = raw[: -draw(st.integers(1, min(len(raw) - 1, 40)))]
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=8)) + raw[at:]
    return "upload" + suffix, raw


def _only_user_errors(fn, *args, **kwargs):
    """``fn(...)``, or None when it raised a UserError that says something."""
    try:
        return fn(*args, **kwargs)
    except UserError as exc:
        assert str(exc).strip(), f"{fn.__name__} raised a UserError with no message"
        return None


def _through_pipeline(name: str, raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(raw)
        table = _only_user_errors(data.load_file, path)
        event("loaded" if table else "refused at loading")
        if table is None:
            return
        assert table.rows and all(isinstance(r, dict) for r in table.rows)
        data.column_types(table)
        detection = data.detect(table)
        _only_user_errors(data.extract_prompts, table, detection, column=table.columns[0] if table.columns else None)
        prepared = _only_user_errors(data.prepare, table)
        event(f"prepared as {prepared.kind}" if prepared else "refused at preparing")
        if prepared is not None:
            assert prepared.rows
            json.dumps(prepared.summary())
            _only_user_errors(write_prepared, prepared, Path(tmp) / "out")


@SETTINGS
@given(files())
@example(("upload.jsonl", b'{"prompt": "\\ud800 hi"}\n'))
@example(("upload.json", b'[{"text": "half \\udc00 a character"}]'))
@example(("upload.csv", codecs.BOM_UTF8))
def test_random_files_load_or_say_why(file):
    _through_pipeline(*file)


@SETTINGS
@given(st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".json.gz", ".parquet"]), st.binary(max_size=200))
def test_random_bytes_load_or_say_why(suffix, raw):
    _through_pipeline("junk" + suffix, raw)


@SETTINGS
@given(
    values,
    st.none() | st.sampled_from(MARKERS) | st.text(min_size=1, max_size=4),
    st.none() | st.sampled_from([r"Human: (.*)", r"(", r"x*", r"()", r"(a)|b"]) | st.text(max_size=4),
)
def test_extract_prompt_returns_text_or_a_reason(value, marker, regex):
    result = _only_user_errors(data.extract_prompt, value, marker=marker, regex=regex)
    if result is not None:
        prompt, why = result
        assert (prompt is None) != (why is None)
        assert prompt is None or (isinstance(prompt, str) and prompt.strip())


@SETTINGS
@given(rows())
def test_random_tables_detect_and_prepare(table_rows):
    """Rows as they come out of JSON (or Parquet): every column in every row, any values."""
    table = data.load._table(table_rows, "random")
    data.column_types(table)
    detection = data.detect(table)
    if table.columns:
        _only_user_errors(data.extract_prompts, table, detection, column=table.columns[-1])
    prepared = _only_user_errors(data.prepare, table)
    if prepared is not None:
        with tempfile.TemporaryDirectory() as tmp:
            _only_user_errors(write_prepared, prepared, Path(tmp) / "out")
