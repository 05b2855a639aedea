"""The Data tab, driven through the running app with gradio_client."""

from __future__ import annotations

import gzip
import json

import pytest
from gradio_client import Client, handle_file
from serve import running_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("ui-data") / "workspace"
    workspace.mkdir()
    with running_app(workspace) as url:
        yield Client(url, verbose=False), workspace


def load(client, source="Bundled sample", sample="prompts", upload=None, hub="", config="", split="train", limit=100):
    return client.predict(source, sample, upload, hub, config, split, limit, api_name="/load_data")


def test_sample_to_saved_dataset(client):
    c, workspace = client
    summary, columns, rows, column, name = load(c, sample="preference-chat")
    assert "rows" in summary and "Preference pairs" in summary and "conversational" in summary
    assert [r[0] for r in columns["data"]] == ["chosen", "rejected"]
    assert {r[1] for r in columns["data"]} == {"chat messages"}
    assert len(rows["data"]) == 20
    assert name == "preference_chat"

    stats, preview = c.predict("(auto)", "", "", api_name="/prepare_data")
    assert "Prompts extracted" in stats
    assert preview["headers"] == ["prompt", "chosen", "rejected"]

    status, download, saved = c.predict("pref-chat", api_name="/save_data")
    assert "Saved **pref-chat**" in status
    lines = [json.loads(line) for line in open(download)]
    assert lines and set(lines[0]) == {"prompt", "chosen", "rejected"}
    assert lines[0]["chosen"][-1]["role"] == "assistant"
    assert ["pref-chat", "preference"] == saved["data"][0][:2]
    assert (workspace / "datasets" / "pref-chat" / "data.jsonl").exists()


def test_markers_in_prompt_sample_are_stripped(client):
    c, _ = client
    load(c, sample="prompts")
    stats, preview = c.predict("(auto)", "", "", api_name="/prepare_data")
    assert "skipped: **0**" in stats
    prompts = [r[0] for r in preview["data"]]
    for marker in ("Input=", "{{Text}}:", "###Human:", "Human:", "Assistant:"):
        assert not any(marker in p for p in prompts)


def test_uploaded_csv_and_gzip_jsonl(client, tmp_path):
    c, _ = client
    csv = tmp_path / "reviews.csv"
    csv.write_text("text,label\nGreat film,1\nDull and slow,0\n", encoding="utf-8")
    summary, columns, *_ = load(c, source="Upload a file", upload=handle_file(str(csv)))
    assert "**2 rows**" in summary and "abelled" in summary

    gz = tmp_path / "chat.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"prompt": "###Human: Name a fruit ###Assistant:"}) + "\n")
    load(c, source="Upload a file", upload=handle_file(str(gz)))
    stats, preview = c.predict("(auto)", "", "", api_name="/prepare_data")
    assert preview["data"][0][0] == "Name a fruit"


def test_bad_inputs_get_a_message_and_the_app_keeps_serving(client, tmp_path):
    c, workspace = client
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"prompt": "ok"}\n{"prompt": \n', encoding="utf-8")
    summary, *_ = load(c, source="Upload a file", upload=handle_file(str(broken)))
    assert summary.startswith("**⚠️") and "line 2" in summary

    unknown = tmp_path / "notes.docx"
    unknown.write_bytes(b"PK\x03\x04")
    summary, *_ = load(c, source="Upload a file", upload=handle_file(str(unknown)))
    assert summary.startswith("**⚠️")

    summary, *_ = load(c, source="Hugging Face Hub", hub="someone/some-dataset")
    assert "can't be reached" in summary

    # the failed loads left the last good state alone and nothing half-saved appeared
    before = sorted(p.name for p in (workspace / "datasets").iterdir()) if (workspace / "datasets").exists() else []
    status, download, _ = c.predict("../escape", api_name="/save_data")
    assert status.startswith("**⚠️") and download is None
    after = sorted(p.name for p in (workspace / "datasets").iterdir()) if (workspace / "datasets").exists() else []
    assert before == after

    summary, *_ = load(c, sample="reviews")
    assert "rows" in summary and not summary.startswith("**⚠️")
