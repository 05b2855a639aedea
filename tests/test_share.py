"""Taking work home: model cards, a run as one zip, and pushes to the Hub (against a fake client: the Hub
isn't reachable here)."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import zipfile
from pathlib import Path

import httpx2
import pytest
from huggingface_hub.errors import HfHubHTTPError

from rlhf_playground.cli import main
from rlhf_playground.data import load_source, prepare
from rlhf_playground.data.store import save_dataset
from rlhf_playground.errors import UserError
from rlhf_playground.jobs.runs import create_run
from rlhf_playground.models import DEFAULT_HUB_ID
from rlhf_playground.models.policy import POLICY_INFO
from rlhf_playground.registry import config_class
from rlhf_playground.sharing import share


class FakeHub:
    """Stands in for ``HfApi``: records the calls, and what the uploaded folder held at the time."""

    def __init__(self, refuse: int | None = None):
        self.calls, self.files, self.refuse = [], {}, refuse

    def create_repo(self, **kwargs):
        self.calls.append(("create_repo", kwargs))
        if self.refuse:
            request = httpx2.Request("POST", "https://huggingface.co/api/repos/create")
            raise HfHubHTTPError("Forbidden", response=httpx2.Response(self.refuse, request=request))
        return f"https://huggingface.co/{kwargs['repo_id']}"

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])
        self.files = {
            str(p.relative_to(folder)): p.read_text(encoding="utf-8") if p.suffix in (".md", ".json", ".jsonl") else ""
            for p in folder.rglob("*")
            if p.is_file()
        }


def finished_run(stage: str, weights: Path, evaluation: dict | None, sft_folder: Path | None = None, **config):
    """A run folder as the stage leaves it, with ``weights`` as its adapter (on the bundled model)."""
    run = create_run(stage, config_class(stage)(**{"model": "default", "dataset": "prompts", **config}))
    shutil.copytree(weights, run.adapter)
    policy = {"base_model": "default", "sft_adapter": str(sft_folder) if sft_folder else None}
    (run.adapter / POLICY_INFO).write_text(json.dumps(policy), encoding="utf-8")
    if evaluation:
        run.write_eval(evaluation)
    (run.path / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (run.path / "checkpoints" / "checkpoint-2" / "optimizer.pt").write_bytes(b"resume state")
    run.finish("finished", "finished after 3 steps", step=3)
    return run


PPO_EVAL = {
    "held_out_prompts": 16,
    "reward_before": 0.1234,
    "reward_after": 0.5678,
    "final_kl": 1.5,
    "reward": "lexicon",
}


@pytest.fixture
def ppo_run(fine_adapter):
    return finished_run("ppo", fine_adapter, PPO_EVAL, reward="lexicon", init_kl_coef=0.2)


def test_the_model_card_says_base_method_data_settings_evaluation_and_versions(ppo_run):
    card = share.write_model_card(ppo_run, "someone/my-ppo").read_text(encoding="utf-8")
    assert (ppo_run.path / "artifacts" / "adapter" / "README.md").read_text(encoding="utf-8") == card
    front = card.split("---")[1]
    assert f"base_model: {DEFAULT_HUB_ID}" in front and "- ppo" in front and "library_name: peft" in front
    assert "# my-ppo" in card and "PPO with a value head" in card and "`prompts`" in card
    assert "| 0.1234 | 0.5678 | 1.5000 |" in card and "16 held-out prompts" in card
    assert "| `init_kl_coef` | `0.2` |" in card and "| `reward` | `lexicon` |" in card
    assert f"| trl | {importlib.metadata.version('trl')} |" in card
    assert f"| peft | {importlib.metadata.version('peft')} |" in card
    assert 'PeftModel.from_pretrained(model, "someone/my-ppo")' in card and "sft_adapter" not in card


def test_a_reward_models_card_gives_its_accuracy(fine_adapter):
    evaluation = {"accuracy": 0.875, "mean_margin": 1.25, "margins": [], "n_eval": 40, "n_train": 320, "dropped": {}}
    card = share.model_card(finished_run("reward", fine_adapter, evaluation, dataset="preference-chat"))
    assert "chosen answer 88% of the time (accuracy 0.875, mean margin 1.250)" in card
    assert "AutoModelForSequenceClassification" in card and "num_labels=1" in card


def test_a_push_uploads_the_adapter_named_by_its_hub_base_with_card_settings_and_evaluation(ppo_run):
    hub = FakeHub()
    url = share.push_run(ppo_run, " someone/my-ppo ", token="hf_x", private=True, api=hub)
    assert url == "https://huggingface.co/someone/my-ppo"
    assert hub.calls[0] == (
        "create_repo",
        {"repo_id": "someone/my-ppo", "repo_type": "model", "private": True, "exist_ok": True},
    )
    assert hub.calls[1][1]["repo_id"] == "someone/my-ppo" and hub.calls[1][1]["repo_type"] == "model"
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md", "training_config.json"} <= set(hub.files)
    assert POLICY_INFO not in hub.files  # local paths stay on this machine
    assert json.loads(hub.files["adapter_config.json"])["base_model_name_or_path"] == DEFAULT_HUB_ID
    assert json.loads(hub.files["eval.json"]) == PPO_EVAL
    assert "# my-ppo" in hub.files["README.md"]
    assert (
        json.loads((ppo_run.adapter / "adapter_config.json").read_text())["base_model_name_or_path"] != DEFAULT_HUB_ID
    )


def test_an_rl_adapter_on_an_sft_takes_the_sft_adapter_along(fine_adapter):
    sft = finished_run("sft", fine_adapter, None)
    ppo = finished_run("ppo", fine_adapter, PPO_EVAL, adapter=sft.id, sft_folder=sft.adapter)
    hub = FakeHub()
    share.push_run(ppo, "someone/ppo-on-sft", token="hf_x", api=hub)
    assert "sft_adapter/adapter_config.json" in hub.files
    assert json.loads(hub.files["sft_adapter/adapter_config.json"])["base_model_name_or_path"] == DEFAULT_HUB_ID
    assert (
        'subfolder="sft_adapter"' in hub.files["README.md"]
        and f"base_model: {DEFAULT_HUB_ID}" in hub.files["README.md"]
    )


def test_pushes_that_cant_work_say_why_in_one_sentence(ppo_run, fine_adapter):
    with pytest.raises(UserError, match="write token"):
        share.push_run(ppo_run, "someone/x", token=None, api=FakeHub())
    with pytest.raises(UserError, match="isn't a Hub repository name"):
        share.push_run(ppo_run, "../../etc", token="hf_x", api=FakeHub())
    with pytest.raises(UserError, match=r"refused the push to 'someone/x' \(403\)"):
        share.push_run(ppo_run, "someone/x", token="hf_x", api=FakeHub(refuse=403))
    queued = create_run("ppo", config_class("ppo")(model="default", dataset="prompts"))
    with pytest.raises(UserError, match="no saved adapter"):
        share.push_run(queued, "someone/x", token="hf_x", api=FakeHub())
    compare = create_run("compare", config_class("compare")())
    compare.finish("finished", "done")
    with pytest.raises(UserError, match="saves no model"):
        share.push_run(compare, "someone/x", token="hf_x", api=FakeHub())


def test_a_finished_run_downloads_as_one_zip_without_its_checkpoints(ppo_run, tmp_path):
    archive = share.run_zip(ppo_run, tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert archive.name == f"{ppo_run.id}.zip"
    assert {f"{ppo_run.id}/{n}" for n in ("config.json", "status.json", "artifacts/eval.json")} <= set(names)
    assert f"{ppo_run.id}/artifacts/adapter/README.md" in names  # the card is written first
    assert not [n for n in names if "/checkpoints/" in n]
    running = create_run("ppo", config_class("ppo")(model="default", dataset="prompts"))
    with pytest.raises(UserError, match="still queued"):
        share.run_zip(running, tmp_path)


def test_a_dataset_push_uploads_its_rows_and_a_card_but_not_who_labelled_what():
    folder = save_dataset(prepare(load_source("preference-chat")), "my-pairs")
    (folder / "events.jsonl").write_text('{"labeler": "ada"}\n', encoding="utf-8")
    hub = FakeHub()
    share.push_dataset("my-pairs", "someone/pairs", token="hf_x", api=hub)
    assert hub.calls[0][1]["repo_type"] == "dataset" and set(hub.files) == {"data.jsonl", "README.md"}
    assert hub.files["data.jsonl"] == (folder / "data.jsonl").read_text(encoding="utf-8")
    assert 'load_dataset("someone/pairs"' in hub.files["README.md"] and "`preference`" in hub.files["README.md"]
    with pytest.raises(UserError, match="No saved dataset named 'nothing'"):
        share.push_dataset("nothing", "someone/pairs", token="hf_x", api=hub)


def test_a_label_set_is_pushed_without_who_chose_what():
    from rlhf_playground.labels.store import ROWS

    folder = save_dataset(prepare(load_source("preference-chat")), "my-labels")
    rows = [json.loads(line) for line in (folder / ROWS).read_text(encoding="utf-8").splitlines()][:3]
    labelled = [{**r, "labeler": "attendee-7", "time": 1796000000.0, "pair_id": f"p{i}"} for i, r in enumerate(rows)]
    (folder / ROWS).write_text("".join(json.dumps(r) + "\n" for r in labelled), encoding="utf-8")
    hub = FakeHub()
    share.push_dataset("my-labels", "someone/labels", token="hf_x", api=hub)
    pushed = [json.loads(line) for line in hub.files["data.jsonl"].splitlines()]
    assert pushed == rows and "attendee-7" not in hub.files["data.jsonl"]


def test_the_push_command(ppo_run, tmp_path, monkeypatch, capsys):
    assert main(["push", ppo_run.id, "--zip", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / f"{ppo_run.id}.zip").is_file()
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no saved login either
    assert main(["push", ppo_run.id, "--repo", "someone/x"]) == 2
    assert capsys.readouterr().err.startswith("error: Pushing needs a Hugging Face write token")
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    assert main(["push", ppo_run.id, "--repo", "someone/x"]) == 2  # HF_HUB_OFFLINE=1 in the tests
    assert "Can't reach the Hugging Face Hub to push 'someone/x'" in capsys.readouterr().err
    assert main(["push", "--repo", "someone/x"]) == 2
