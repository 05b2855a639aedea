"""The Ray job backend, against a Ray head this test starts on the loopback: jobs run as Ray actors, write the
same run folders, stop through the run folder, and a job whose worker dies ends as failed with a reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from serve import free_port
from test_ppo_trainer import tiny_config as ppo_config
from test_sft import pairs_file, tiny_config  # noqa: F401 - pairs_file is a fixture

from rlhf_playground.errors import UserError
from rlhf_playground.jobs import runner
from rlhf_playground.jobs.ray_backend import ADDRESS_ENV, BACKEND_ENV, _actor, backend
from rlhf_playground.jobs.runs import ACTIVE, DIED_ON_RAY
from rlhf_playground.workspace import SAMPLES_DIR

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow
RAY = str(Path(sys.executable).with_name("ray"))
LONG_S = 600  # a job: its process starts, imports torch, loads the model, trains (a busy machine is slow)


@pytest.fixture(scope="module")
def ray_head():
    """A Ray head on this machine with 2 CPUs, for this module only, reached on the loopback address;
    without token authentication (one machine, this test's own cluster: a real one keeps it on)."""
    port = free_port()
    os.environ["RAY_AUTH_MODE"] = "disabled"  # for the head, and for this process's connection to it
    start = [RAY, "start", "--head", "--port", str(port), "--num-cpus", "2"]
    start += ["--include-dashboard", "false", "--disable-usage-stats"]
    subprocess.run(start, check=True, capture_output=True, timeout=300)
    yield f"127.0.0.1:{port}"
    if ray.is_initialized():
        ray.shutdown()
    subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=300)
    os.environ.pop("RAY_AUTH_MODE", None)


@pytest.fixture
def on_ray(ray_head, monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, "ray")
    monkeypatch.setenv(ADDRESS_ENV, ray_head)


def wait_until(what, timeout: float = LONG_S):
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def ended(run) -> dict:
    return wait_until(lambda: (s := run.status())["state"] not in ACTIVE and s)


def test_an_sft_and_a_ppo_job_run_on_ray(on_ray, pairs_file, tiny_model_dir):  # noqa: F811
    sft = runner.start("sft", tiny_config(tiny_model_dir, pairs_file))
    assert sft.status()["backend"] == "ray" and sft.status()["ray_resources"]["num_cpus"] > 0
    status = ended(sft)
    assert (status["state"], status["step"]) == ("finished", 3), sft.tail_log()
    assert (sft.adapter / "adapter_model.safetensors").is_file()
    ppo = runner.start("ppo", ppo_config(tiny_model_dir, dataset=str(SAMPLES_DIR / "prompts.jsonl"), steps=2))
    status = ended(ppo)
    assert (status["state"], status["step"]) == ("finished", 2), ppo.tail_log()
    assert [m["step"] for m in ppo.metrics()] == [1, 2]
    assert wait_until(lambda: _actor(ppo) is None, 60)  # the actor ends with its job


def test_stop_ends_a_running_ray_job_and_keeps_what_it_trained(on_ray, pairs_file, tiny_model_dir):  # noqa: F811
    run = runner.start("sft", tiny_config(tiny_model_dir, pairs_file, max_steps=2000, save_steps=0))
    wait_until(lambda: run.status().get("step", 0) >= 1)
    status = runner.stop(run)
    assert status["state"] == "stopped", status
    assert (run.adapter / "adapter_config.json").is_file()  # a clean stop: the adapter so far is saved


def test_a_job_whose_ray_worker_dies_ends_as_failed_with_a_reason(on_ray, pairs_file, tiny_model_dir):  # noqa: F811
    run = runner.start("sft", tiny_config(tiny_model_dir, pairs_file, max_steps=2000, save_steps=0))
    wait_until(lambda: run.status().get("step", 0) >= 1)
    worker = psutil.Process(ray.get(_actor(run).pid.remote(), timeout=60))
    for process in [*worker.children(recursive=True), worker]:  # as when its node goes: all of it at once
        process.kill()
    status = ended(run)
    assert (status["state"], status["reason"]) == ("failed", DIED_ON_RAY)


def test_the_backend_setting_is_checked(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, "slurm")
    with pytest.raises(UserError, match="must be 'local' or 'ray'"):
        backend()
    monkeypatch.delenv(BACKEND_ENV)
    assert backend() == "local" and os.environ.get(BACKEND_ENV) is None
