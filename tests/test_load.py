"""A room of attendees on one hosted app (benchmarks/load_test.py, CI-sized): everyone gets in, every job
finishes, and nobody sees another's runs. Outcomes only: the benchmark reports the speed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from load_test import run_workshop  # noqa: E402

pytestmark = pytest.mark.slow


def test_eight_attendees_at_once_all_train_and_see_only_their_own_runs():
    result = run_workshop(clients=8, minutes=30, steps=1, slots=2, stages=("sft",))  # two jobs side by side
    assert result["problems"] == []
    assert result["joined"] == 8 and result["cheap_calls"] > 8 * 6
    assert result["jobs_started"] == result["jobs_finished"] == 8, result
    assert result["cross_session_probes"] >= 1 and result["cross_session_reads"] == 0, result
