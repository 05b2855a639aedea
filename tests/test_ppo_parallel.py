"""Data-parallel PPO under ``accelerate launch``: two CPU processes (gloo) take the step one process takes
on the whole batch, and a two-process run writes one run folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from serve import free_port

from rlhf_playground.config import ACCELERATE_CONFIGS

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("ppo_parallel_worker.py")
CPU_CONFIG = ROOT / "assets" / "accelerate" / "cpu-gloo.yaml"  # the shipped config, as a person would use it
pytestmark = pytest.mark.slow


def launch(*args: str, processes: int, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """``accelerate launch`` with ``processes`` processes (one: plain python)."""
    if processes == 1:
        command = [sys.executable, *args]
    else:
        command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CPU_CONFIG)]
        command += ["--num_processes", str(processes), "--main_process_port", str(free_port()), *args]
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), **(env or {})}
    done = subprocess.run(command, capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_two_processes_take_the_step_one_process_takes_on_the_whole_batch(tiny_model_dir, tmp_path):
    # one thread in every process: sampling's log-probs (the old policy's) vary in their last digits with the
    # thread count, and at this learning rate a token on the clip boundary turns that into visible weights
    launch(str(WORKER), str(tiny_model_dir), str(tmp_path / "one"), processes=1, env={"OMP_NUM_THREADS": "1"})
    launch(str(WORKER), str(tiny_model_dir), str(tmp_path / "two"), processes=2, env={"OMP_NUM_THREADS": "1"})
    alone = torch.load(tmp_path / "one" / "rank0.pt")
    first, second = (torch.load(tmp_path / "two" / f"rank{r}.pt") for r in (0, 1))
    assert alone["n"] == first["n"] == second["n"] == 8  # the controller counts the whole batch
    assert abs(alone["kl"]) > 1e-4  # the second update's rollout has moved away from the reference
    assert first["kl"] == pytest.approx(alone["kl"], rel=1e-3) == second["kl"]
    assert first["kl_coef"] == pytest.approx(alone["kl_coef"], rel=1e-6) == second["kl_coef"]
    for key, value in alone["critic"].items():  # the critic's figures are the whole batch's in every process
        assert first["critic"][key] == pytest.approx(value, rel=1e-3, abs=1e-5) == second["critic"][key], key
    moved = 0
    for name, value in alone["weights"].items():
        assert torch.equal(first["start"][name], alone["start"][name]), name  # the same start everywhere
        assert torch.allclose(first["weights"][name], second["weights"][name], atol=1e-6), name  # in step
        # = one process on the whole batch, to within 1% of how far the weights moved: the gradients are summed in
        # another order, and Adam's normalised steps carry such last-digit differences into the weights
        travel = (value - alone["start"][name]).abs().max()
        assert (first["weights"][name] - value).abs().max() <= 0.01 * travel, name
        moved += int(travel > 1e-3)
    assert moved > len(alone["weights"]) // 2  # the updates moved most weights: the comparison means something


def test_a_two_process_ppo_run_writes_one_run_folder(tiny_model_dir, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Tell me about day {i}"}) + "\n" for i in range(12)))
    workspace = tmp_path / "workspace"
    args = ["-m", "rlhf_playground", "ppo", "--model", str(tiny_model_dir), "--dataset", str(prompts)]
    args += ["--steps", "2", "--batch-size", "4", "--mini-batch-size", "2", "--max-new-tokens", "4"]
    args += ["--eval-prompts", "2", "--reward", "lexicon"]
    done = launch(*args, processes=2, env={"RLHF_WORKSPACE": str(workspace)})
    (run,) = (workspace / "runs").iterdir()
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 2
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert (run / "artifacts" / "adapter" / "adapter_model.safetensors").is_file()
    assert (run / "artifacts" / "eval.json").is_file()
    assert "process 2 of 2" in done.stdout + done.stderr and "process 2 of 2" not in (run / "log.txt").read_text()


@pytest.mark.parametrize("name", ACCELERATE_CONFIGS)
def test_the_shipped_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(ROOT / "assets" / "accelerate" / f"{name}.yaml"))
    expected = {"fsdp": "FSDP", "deepspeed-zero2": "DEEPSPEED", "deepspeed-zero3": "DEEPSPEED"}.get(name, "MULTI_GPU")
    assert config.distributed_type == expected and config.num_processes == 2
    if name.startswith("deepspeed"):
        assert config.deepspeed_config["zero_stage"] == int(name[-1])


def test_the_command_box_names_the_accelerate_config_picked():
    import gradio as gr

    from rlhf_playground.ppo.config import PPOStageConfig
    from rlhf_playground.ui.forms import ConfigForm
    from rlhf_playground.ui.ppo_tab import GROUPS

    with gr.Blocks():
        form = ConfigForm(PPOStageConfig, "ppo", GROUPS)
    values = [widget.value for widget in form.inputs]
    assert form.launch_config in form.command_inputs and form.launch_config.choices
    for name in ACCELERATE_CONFIGS:
        shown = form.command("ppo", *values, name)
        assert f"accelerate launch --config_file assets/accelerate/{name}.yaml -m rlhf_playground ppo" in shown
        assert (ROOT / "assets" / "accelerate" / f"{name}.yaml").is_file()
