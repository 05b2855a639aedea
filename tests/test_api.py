"""Scripts drive the app through gradio's API: README's script as it stands (the tiny model swapped in),
the run endpoints, and on a shared app each caller's own workspace only."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from serve import running_app
from test_hosted import cookie, fake_run

from rlhf_playground.workspace import session

ROOT = Path(__file__).resolve().parents[1]


def readme_script() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Scripting it: the API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def swapped(script: str, old: str, new: str) -> str:
    assert script.count(old) == 1, old
    return script.replace(old, new)


@pytest.mark.slow
def test_the_readme_script_trains_and_compares(tmp_path, tiny_model_dir, capsys):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with running_app(workspace) as url:
        script = swapped(readme_script(), 'Client("http://127.0.0.1:7860/")', f'Client("{url}", verbose=False)')
        script = swapped(script, "max_steps=10,", f'max_steps=2, model="{tiny_model_dir}", max_new_tokens=4,')
        script = swapped(script, "n_prompts=4,", f'n_prompts=2, base="{tiny_model_dir}", max_new_tokens=4,')
        exec(compile(script, "README's API script", "exec"), {})
        printed = capsys.readouterr().out.splitlines()
        assert printed[0] == "finished after 2 steps"
        assert printed[1].startswith("finished") and "'n_prompts': 2" in printed[1]

        client = Client(url, verbose=False)
        runs = client.predict(api_name="/runs")
        assert [r["stage"] for r in runs] == ["compare", "sft"]
        sft = runs[1]["id"]
        assert [r["id"] for r in client.predict("sft", api_name="/runs")] == [sft]
        assert [m["step"] for m in client.predict(sft, api_name="/run_metrics")] == [1, 2]
        artifacts = client.predict(sft, api_name="/run_artifacts")
        assert artifacts["files"]["adapter/adapter_config.json"] > 0 and "adapter/README.md" in artifacts["files"]
        archive = client.predict(sft, api_name="/run_download")
        assert f"{sft}/artifacts/adapter/adapter_model.safetensors" in zipfile.ZipFile(archive).namelist()
        with pytest.raises(AppError, match="isn't a run id"):
            client.predict("../../etc", api_name="/run_status")


@pytest.mark.slow
def test_a_shared_apps_api_shows_each_caller_its_own_runs_only(tmp_path, monkeypatch):
    workspace = tmp_path / "hosted"
    workspace.mkdir()
    monkeypatch.setenv("RLHF_WORKSPACE", str(workspace))
    with session("i" * 48) as ivys:
        run_id = fake_run(ivys).name
    with running_app(workspace, RLHF_HOSTED="1") as url:
        ivy = Client(url, verbose=False, headers=cookie("i"))
        assert [r["id"] for r in ivy.predict(api_name="/runs")] == [run_id]
        assert ivy.predict(run_id, api_name="/run_status")["state"] == "finished"
        for stranger in (Client(url, verbose=False, headers=cookie("j")), Client(url, verbose=False)):
            assert stranger.predict(api_name="/runs") == []
            for endpoint in ("/run_status", "/run_metrics", "/run_artifacts", "/run_download"):
                with pytest.raises(AppError, match=f"No run {run_id} in your workspace") as refused:
                    stranger.predict(run_id, api_name=endpoint)
                assert str(workspace) not in str(refused.value) and "/sessions/" not in str(refused.value)
