"""Reading files, samples and the Hub, and the one-sentence errors for bad input."""

from __future__ import annotations

import gzip
import json

import pytest

from rlhf_playground import data
from rlhf_playground.errors import UserError
from rlhf_playground.sharing import hub


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


ROWS = [{"prompt": "hi", "n": 1}, {"prompt": "there", "n": 2}]


@pytest.mark.parametrize(
    "name", ["d.jsonl", "d.ndjson", "d.json", "d.jsonl.gz", "d.json.gz", "d.csv", "d.csv.gz", "d.tsv", "d.parquet"]
)
def test_every_supported_format(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(ROWS), path)
    else:
        if ".csv" in name or ".tsv" in name:
            sep = "\t" if ".tsv" in name else ","
            text = f"prompt{sep}n\nhi{sep}1\nthere{sep}2\n"
        elif ".jsonl" in name or ".ndjson" in name:
            text = "".join(json.dumps(r) + "\n" for r in ROWS)
        else:
            text = json.dumps(ROWS)
        write(path, gzip.compress(text.encode()) if name.endswith(".gz") else text)
    t = data.load_file(path)
    assert (t.rows, t.columns, t.source) == (ROWS, ["prompt", "n"], name)
    assert data.load_file(path, limit=1).rows == ROWS[:1]


def test_json_variants_and_missing_keys(tmp_path):
    assert data.load_file(write(tmp_path / "a.json", json.dumps({"data": ROWS}))).rows == ROWS
    assert len(data.load_file(write(tmp_path / "b.json", '{"prompt": "x"}\n{"prompt": "y"}\n')).rows) == 2
    t = data.load_file(write(tmp_path / "c.jsonl", '{"a": 1}\n\n{"b": "x"}\n'))
    assert t.columns == ["a", "b"] and t.rows == [{"a": 1, "b": None}, {"a": None, "b": "x"}]


def test_csv_types(tmp_path):
    t = data.load_file(write(tmp_path / "r.csv", 'text,label,score,ok,tag\r\n"a, b",1,0.5,true,x\r\nc,0,1,false,\r\n'))
    assert t.rows == [
        {"text": "a, b", "label": 1, "score": 0.5, "ok": True, "tag": "x"},
        {"text": "c", "label": 0, "score": 1, "ok": False, "tag": None},
    ]
    assert data.column_types(t)["score"] == "number"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_encodings(tmp_path, encoding):
    t = data.load_file(write(tmp_path / "e.csv", "text,label\ncafé,1\n", encoding))
    assert t.rows == [{"text": "café", "label": 1}] and t.columns == ["text", "label"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("notes.docx", b"PK\x03\x04", "supported file type.*\\.jsonl"),
        ("broken.jsonl", '{"prompt": "ok"}\n{"prompt": \n', "line 2"),
        ("broken.json", '[{"prompt": "ok"},\n', "isn't valid JSON"),
        ("latin.csv", "text\ncaf\xe9\n".encode("latin-1"), "isn't UTF-8 text; re-save it as UTF-8"),
        ("empty.jsonl", "  \n\n", "empty"),
        ("empty.csv", "", "empty"),
        ("header.csv", "text,label\n", "no rows"),
        ("list.jsonl", '{"a": 1}\n[1, 2]\n', "line 2.*object"),
        ("scalars.json", "[1, 2]", "object"),
        ("fields.csv", "a,b\n1,2,3\n", "line 2.*3 fields"),
        ("bad.parquet", b"not parquet", "Parquet"),
        ("bad.jsonl.gz", b"not gzip", "gzip"),
    ],
)
def test_bad_files(tmp_path, name, content, message):
    with pytest.raises(UserError, match=message):
        data.load_file(write(tmp_path / name, content))


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_MAX_FILE_MB", "0.001")
    assert data.max_file_bytes() == 1048
    path = write(tmp_path / "big.jsonl", json.dumps({"prompt": "x" * 2000}) + "\n")
    with pytest.raises(UserError, match=r"'big.jsonl' is 2 KB, over the 1 KB limit.*RLHF_MAX_FILE_MB"):
        data.load_file(path)
    with pytest.raises(UserError, match="unpacks to over"):
        data.load_file(write(tmp_path / "bomb.jsonl.gz", gzip.compress(path.read_bytes())))
    monkeypatch.delenv("RLHF_MAX_FILE_MB")
    assert data.max_file_bytes() == 200 * 1024 * 1024


def test_samples_and_sources(tmp_path):
    assert list(data.SAMPLES) == [
        "prompts",
        "preference-chat",
        "preference-transcripts",
        "preference-sentiment",
        "reviews",
    ]
    assert len(data.load_sample("reviews", limit=5).rows) == 5
    with pytest.raises(UserError, match="prompts, preference-chat"):
        data.load_sample("nope")
    path = write(tmp_path / "p.jsonl", '{"prompt": "x"}\n')
    assert data.load_source(str(path)).source == "p.jsonl"
    assert data.load_source("prompts").source == "prompts.jsonl"
    with pytest.raises(UserError, match="no file"):
        data.load_source(str(tmp_path / "missing.csv"))


def test_the_sentiment_pairs_are_graded_by_warmth_as_another_scorer_sees_it():
    """The demo's SFT and reward data: in each pair the chosen answer is the warmer one, judged by VADER (which
    neither the pairs' templates nor the demo's judge share), and no chosen answer is negative."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    polarity = SentimentIntensityAnalyzer().polarity_scores
    rows = data.load_sample("preference-sentiment").rows
    chosen = [polarity(row["chosen"][-1]["content"])["compound"] for row in rows]
    rejected = [polarity(row["rejected"][-1]["content"])["compound"] for row in rows]
    prompts = {json.dumps(row["chosen"][:-1]) for row in rows}
    assert len(rows) == 360 and len(prompts) > 100 and all(row["chosen"][:-1] == row["rejected"][:-1] for row in rows)
    assert min(chosen) >= 0 and sum(c > r for c, r in zip(chosen, rejected)) >= 0.9 * len(rows)
    assert len(set(chosen)) > 50 and sum(r > 0 for r in rejected) > 50  # graded: some rejected are mild


def test_hub_unreachable_fails_fast(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(UserError, match="can't be reached"):
        data.load_hub("someone/some-dataset")
    with pytest.raises(UserError, match="can't be reached"):
        data.load_source("someone/some-dataset")


def test_hub_unknown_name(monkeypatch):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    def missing(self, repo_id, **kwargs):
        import httpx

        raise RepositoryNotFoundError("404", response=httpx.Response(404, request=httpx.Request("GET", "https://x")))

    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: True)
    monkeypatch.setattr(HfApi, "repo_info", missing)
    with pytest.raises(UserError, match="No dataset named 'nobody/nothing'"):
        data.load_hub("nobody/nothing")


def test_hub_rows_are_streamed_and_limited(monkeypatch):
    import datasets

    calls = {}

    class Stream:
        def take(self, n):
            return [{"prompt": f"p{i}"} for i in range(n)]

    def fake_load(name, config, split, streaming):
        calls.update(name=name, config=config, split=split, streaming=streaming)
        return Stream()

    monkeypatch.setattr(hub, "check_repo", lambda *a: None)
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    t = data.load_hub("owner/prompts", config="en", split="test", limit=3)
    assert len(t.rows) == 3 and t.source == "hub:owner/prompts/en:test"
    assert calls == {"name": "owner/prompts", "config": "en", "split": "test", "streaming": True}
    assert len(data.load_hub("owner/prompts").rows) == 1000


@pytest.mark.parametrize(
    "error, message",
    [
        (
            ValueError("Bad split: dev. Available splits: ['train']\nmore"),
            r"split 'dev'.*Available splits: \['train'\]$",
        ),
        (ValueError("BuilderConfig 'xx' not found. Available: ['en', 'fr']"), r"config xx.*Available: \['en', 'fr'\]"),
        (RuntimeError("Dataset scripts are no longer supported, but found name.py"), "loading script.*Parquet"),
        (ConnectionError("Failed to resolve 'huggingface.co'"), "can't be reached"),
    ],
)
def test_hub_load_errors_are_explained(monkeypatch, error, message):
    import datasets

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(hub, "check_repo", lambda *a: None)
    monkeypatch.setattr(datasets, "load_dataset", fail)
    with pytest.raises(UserError, match=message):
        data.load_hub("owner/name", config="xx", split="dev")
