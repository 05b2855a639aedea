"""The Compare and Try-models tabs, driven through the running app with the tiny model."""

from __future__ import annotations

import csv
import json
import shutil
import time

import pytest
from gradio_client import Client
from serve import running_app

from rlhf_playground.evaluation.compare import CompareConfig
from rlhf_playground.ui.compare_tab import GROUPS

FIELDS = [name for _, names in GROUPS for name in names]
PROMPTS = ["Hi", "How was your day?", "Tell me about the sea"]


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir, fine_adapter):
    """The app over a workspace holding one finished SFT run (the fine_adapter) and one of another base."""
    from rlhf_playground.models.tiny import make_tiny_model

    root = tmp_path_factory.mktemp("ui-compare")
    workspace = root / "workspace"
    runs = workspace / "runs"
    for run_id, base in [("20260101-000000-sft-aaaa", tiny_model_dir), ("20260101-000000-sft-bbbb", None)]:
        folder = runs / run_id
        shutil.copytree(fine_adapter, folder / "artifacts" / "adapter")
        (folder / "status.json").write_text(json.dumps({"stage": "sft", "state": "finished", "created": 1}))
        (folder / "config.json").write_text("{}")
        if base is None:  # the same adapter, recorded as trained on another model
            other = make_tiny_model(root / "other-model")
            config_path = folder / "artifacts" / "adapter" / "adapter_config.json"
            adapter_config = json.loads(config_path.read_text())
            adapter_config["base_model_name_or_path"] = str(other)
            config_path.write_text(json.dumps(adapter_config))
    with running_app(workspace) as url:
        yield Client(url, verbose=False), str(tiny_model_dir)


def start(c, **settings):
    values = {**vars(CompareConfig()), "max_new_tokens": 4, **settings}
    return c.predict(*[values[name] for name in FIELDS], api_name="/compare_start")[0]  # (message, run id)


def wait(c, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = c.predict(api_name="/compare_poll")
        if any(state in shown[0] for state in ("finished", "failed", "stopped")):
            return shown
        time.sleep(0.5)
    raise AssertionError(f"the comparison did not end: {shown[0]}")


def test_base_and_tuned_side_by_side_with_scores_win_rate_and_csv(client):
    c, model = client
    message = start(c, base=model, tuned=["20260101-000000-sft-aaaa"], prompts_text="\n".join(PROMPTS))
    assert "started" in message, message
    progress, log, summary, summary_table, chart, answers, csv_file, _timer = wait(c)
    assert "finished" in progress, log
    assert "20260101-000000-sft-aaaa" in summary and "wins **100%**" in summary
    headers, rows = answers["headers"], answers["data"]
    assert headers[:3] == ["prompt", "base", "base · sentiment"]
    assert "20260101-000000-sft-aaaa · sentiment" in headers
    assert [row[0] for row in rows] == PROMPTS
    tuned = headers.index("20260101-000000-sft-aaaa")
    for row in rows:
        assert row[tuned].startswith("fine") and row[tuned] != row[1]
        assert row[headers.index("20260101-000000-sft-aaaa · sentiment")].startswith("positive")
    assert {row[0] for row in chart["data"]} >= {"base", "20260101-000000-sft-aaaa"}
    assert [row[0] for row in summary_table["data"]] == ["base", "20260101-000000-sft-aaaa"]
    with open(csv_file, encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["prompt"] for r in table] == PROMPTS
    assert all(float(r["20260101-000000-sft-aaaa: score"]) > 0 for r in table)


def test_bad_comparisons_are_refused_with_a_reason(client):
    c, model = client
    message = start(c, base=model, prompts_text="", dataset="")
    assert message.startswith("**⚠️") and "prompts" in message
    message = start(c, base=model, tuned=["20260101-000000-sft-bbbb"], prompts_text="Hi")
    assert message.startswith("**⚠️") and "trained on" in message
    message = start(c, base=model, prompts_text="Hi", scorer=f"classifier:{model}")
    assert message.startswith("**⚠️") and "text-classification" in message


def test_try_models_generates_and_scores(client):
    c, model = client
    message, table = c.predict(
        "20260101-000000-sft-aaaa",
        "The weather",
        3,
        0.7,
        50,
        0.95,
        False,
        2,
        0,
        False,
        "lexicon",
        api_name="/explore_generate",
    )
    assert message == ""
    assert [row[0] for row in table["data"]] == [" fine fine fine"] * 2
    assert [row[1] for row in table["data"]] == ["positive", "positive"]
    message, table = c.predict(
        model, "  ", 3, 0.7, 50, 0.95, True, 1, 0, False, "lexicon", api_name="/explore_generate"
    )
    assert message.startswith("**⚠️") and not table["data"]
    verdict = c.predict("What a dreadful, boring film.", "lexicon", api_name="/explore_sentiment")
    assert verdict.startswith("**negative**")
