"""Taking work home: a finished run's model card, its folder as one zip, and pushes to the Hugging Face Hub.

A run's adapter names the base it was trained on by a local path (the converted bundled model in
the cache, or another run's folder); what goes to the Hub names it by its Hub id instead, so that
``PeftModel.from_pretrained`` works for whoever downloads it. An RL adapter trained on a base with
an SFT adapter merged in takes that SFT adapter along in ``sft_adapter/``. The push itself is
huggingface_hub's ``create_repo`` and ``upload_folder``; ``api`` stands in for ``HfApi`` in tests.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ..data.load import read_jsonl
from ..errors import UserError
from ..jobs.runs import Run, read_json
from ..models.policy import POLICY_INFO
from ..registry import TUNED
from ..workspace import RUN_ID, datasets_dir, runs_dir, safe_name
from .hub import hub_reachable, looks_like_repo_id

CARD = "README.md"  # the Hub shows a repository's README.md as its card
MODEL_STAGES = (*TUNED, "reward")  # the stages that save an adapter: the tuned models, and the reward model
METHODS = {
    "sft": "supervised fine-tuning with LoRA (TRL's SFTTrainer)",
    "reward": "a reward model: a one-output score head and LoRA on chosen/rejected pairs (TRL's RewardTrainer)",
    "ppo": "PPO with a value head and a KL penalty toward the reference (RLHF Playground's own implementation)",
    "dpo": "DPO on chosen/rejected pairs (TRL's DPOTrainer)",
    "grpo": "GRPO: group-relative advantages, no value model (TRL's GRPOTrainer)",
    "rloo": "RLOO: a leave-one-out REINFORCE baseline (TRL's RLOOTrainer)",
}
LIBRARIES = ("rlhf-playground", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes")
PRIVATE_COLUMNS = ("labeler", "time", "pair_id")  # a labels dataset's record of who chose what, and when
ZIP_LEAVES_OUT = ("checkpoints", "trainer")  # resume state: large, and of no use away from this machine


# ------------------------------------------------------------------ what a run was trained on
def hub_model_id(ref: str | None) -> str | None:
    """The Hub id of the model ``ref`` (as a stage config holds it) is, or sits on; None for a local model."""
    from ..models import DEFAULT_HUB_ID, DEFAULT_MODEL, DEFAULT_NAME

    text = (ref or "").strip()
    if text in ("", DEFAULT_MODEL):
        return DEFAULT_HUB_ID
    if RUN_ID.match(text):
        return hub_model_id(read_json(runs_dir() / text / "config.json", {}).get("model"))
    path = Path(text).expanduser()
    if path.is_dir():
        adapter_config = read_json(path / "adapter_config.json", None)
        if adapter_config is not None:
            return hub_model_id(adapter_config.get("base_model_name_or_path"))
        return DEFAULT_HUB_ID if path.name == DEFAULT_NAME else None
    return text if looks_like_repo_id(text) else None


def saved_model(run: Run, stage: str | None = None) -> bool:
    """Whether ``run`` (of ``stage``, its status's when not given) is a training run whose adapter is saved."""
    stage = stage or run.status().get("stage")
    return stage in MODEL_STAGES and (run.adapter / "adapter_config.json").is_file()


def _shareable(run: Run) -> dict[str, Any]:
    status = run.status()
    if status.get("stage") not in MODEL_STAGES:
        raise UserError(f"Run {run.id} is a {status.get('stage')} run, which saves no model: share a training run.")
    if status.get("state") not in ("finished", "stopped") or not saved_model(run, status["stage"]):
        raise UserError(f"Run {run.id} has no saved adapter ({status.get('state')}): share it once it has finished.")
    return status


def library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


# ------------------------------------------------------------------ the card
def _evaluation_lines(stage: str, evaluation: dict | None) -> list[str]:
    if not evaluation:
        return ["No held-out evaluation was written for this run."]
    if stage == "reward":
        return [
            f"On {evaluation['n_eval']} held-out pairs the reward model prefers the chosen answer "
            f"{evaluation['accuracy']:.0%} of the time (accuracy {evaluation['accuracy']:.3f}, mean margin "
            f"{evaluation['mean_margin']:.3f}); it trained on {evaluation['n_train']} pairs.",
        ]
    kl = evaluation.get("final_kl")
    return [
        f"Mean reward (`{evaluation['reward']}`) of greedy answers to "
        f"{evaluation['held_out_prompts']} held-out prompts:",
        "",
        "| before | after | final KL to the reference |",
        "|---|---|---|",
        f"| {evaluation['reward_before']:.4f} | {evaluation['reward_after']:.4f} | "
        f"{'' if kl is None else f'{kl:.4f}'} |",
    ]


def _usage(stage: str, base: str, repo_id: str, with_sft: bool) -> list[str]:
    model_class = "AutoModelForSequenceClassification" if stage == "reward" else "AutoModelForCausalLM"
    load = f'{model_class}.from_pretrained("{base}"' + (", num_labels=1)" if stage == "reward" else ")")
    lines = [
        "```python",
        "from peft import PeftModel",
        f"from transformers import AutoTokenizer, {model_class}",
        "",
        f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}")',
        f"model = {load}",
    ]
    if with_sft:
        lines += [
            "# it was trained on the base with an SFT adapter merged in: merge that first",
            f'model = PeftModel.from_pretrained(model, "{repo_id}", subfolder="sft_adapter").merge_and_unload()',
        ]
    return [*lines, f'model = PeftModel.from_pretrained(model, "{repo_id}")', "```"]


def model_card(run: Run, repo_id: str | None = None) -> str:
    """The run's model card in Markdown, with the Hub's metadata block: base, method, data, evaluation,
    every setting, how to load it and the library versions, in the manner of TRL's cards."""
    status, config = _shareable(run), run.config()
    stage = status["stage"]
    base = hub_model_id(config.get("adapter") or config.get("model"))
    dataset = str(config.get("dataset") or "")
    repo_id = repo_id or f"<you>/{run.id}"
    meta = [f"base_model: {base}"] if base else []
    meta += ["library_name: peft", "tags:", *(f"- {t}" for t in ("rlhf-playground", "trl", "peft", "lora", stage))]
    if looks_like_repo_id(dataset) and "/" in dataset:
        meta += ["datasets:", f"- {dataset}"]
    with_sft = bool(config.get("adapter"))
    base_line = f"[{base}](https://huggingface.co/{base})" if base else f"a local model (`{config.get('model')}`)"
    lines = [
        "---",
        *meta,
        "---",
        "",
        f"# {repo_id.split('/')[-1]}",
        "",
        f"A LoRA adapter trained with {METHODS[stage]}, in RLHF Playground (run `{run.id}`, "
        f"{status.get('state')}: {status.get('reason', '')}).",
        "",
        "## Training",
        "",
        f"- Base model: {base_line}",
        f"- Method: {stage.upper()}",
        f"- Dataset: `{dataset or 'none'}`",
    ]
    if config.get("reward"):
        lines.append(f"- Reward: `{config['reward']}`")
    if with_sft:
        lines.append(f"- Starting point: the base with the SFT adapter `{config['adapter']}` merged in (sft_adapter/)")
    lines += ["", "## Evaluation", "", *_evaluation_lines(stage, run.read_eval()), "", "## Settings", ""]
    lines += ["| setting | value |", "|---|---|", *(f"| `{k}` | `{v}` |" for k, v in config.items())]
    lines += ["", "## Use it", "", *_usage(stage, base or "<the base model>", repo_id, with_sft), ""]
    lines += ["## Libraries", "", "| library | version |", "|---|---|"]
    lines += [f"| {name} | {version} |" for name, version in library_versions().items()]
    return "\n".join(lines) + "\n"


def write_model_card(run: Run, repo_id: str | None = None) -> Path:
    """The card, into ``artifacts/adapter/README.md`` (in place of peft's empty template)."""
    path, card = run.adapter / CARD, model_card(run, repo_id)
    if not path.is_file() or path.read_text(encoding="utf-8") != card:  # unchanged: the zip stays the same
        path.write_text(card, encoding="utf-8")
    return path


# ------------------------------------------------------------------ a run as one zip
def run_zip(run: Run, folder: Path | None = None) -> Path:
    """The run folder as ``<run id>.zip`` in ``folder`` (a new temporary one by default), without the
    checkpoints kept for resuming; the model card is written first where the run saved an adapter."""
    status = run.status()
    if status.get("state") not in ("finished", "stopped", "failed"):
        raise UserError(f"Run {run.id} is still {status.get('state')}: download it once it has ended.")
    if saved_model(run, status.get("stage")):
        write_model_card(run)
    target = Path(folder or tempfile.mkdtemp(prefix="rlhf-run-")) / f"{run.id}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run.path.rglob("*")):
            relative = path.relative_to(run.path)
            if path.is_file() and relative.parts[0] not in ZIP_LEAVES_OUT:
                archive.write(path, Path(run.id) / relative)
    return target


# ------------------------------------------------------------------ pushes
def check_push(repo_id: str, token: str | None) -> str:
    """The repository name, stripped, once it and the token are fit for a push; UserError otherwise."""
    repo_id = (repo_id or "").strip()
    if not looks_like_repo_id(repo_id):
        raise UserError(f"'{repo_id}' isn't a Hub repository name: type one such as 'your-name/my-ppo-model'.")
    if not token:
        raise UserError(
            "Pushing needs a Hugging Face write token: set HF_TOKEN (huggingface.co/settings/tokens), "
            "or sign in with Hugging Face on a Space, then push again."
        )
    return repo_id


def _require_hub(api, repo_id: str) -> None:
    if api is None and not hub_reachable():
        raise UserError(
            f"Can't reach the Hugging Face Hub to push '{repo_id}': check the network (or HTTPS_PROXY) and "
            "push again; downloading the run as a zip works offline."
        )


def _staged_adapter(source: Path, target: Path, base: str | None) -> None:
    """A copy of the adapter folder whose config names its base by Hub id (when there is one)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(CARD, POLICY_INFO))  # local paths stay here
    config_path = target / "adapter_config.json"
    if base and config_path.is_file():
        adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
        adapter_config["base_model_name_or_path"] = base
        config_path.write_text(json.dumps(adapter_config, indent=2), encoding="utf-8")


def _upload(api, folder: Path, repo_id: str, repo_type: str, private: bool, message: str) -> str:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        url = api.create_repo(repo_id=repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, repo_type=repo_type, folder_path=str(folder), commit_message=message)
    except HfHubHTTPError as exc:
        code = getattr(getattr(exc, "response", None), "status_code", None)
        if code in (401, 403):
            raise UserError(
                f"The Hub refused the push to '{repo_id}' ({code}): use a token with write access to that name."
            ) from None
        raise UserError(f"The push to '{repo_id}' failed on the Hub: {str(exc).splitlines()[0]}") from None
    return str(url)


def _hub_api(api, token: str):
    if api is not None:
        return api
    from huggingface_hub import HfApi

    return HfApi(token=token)


def push_run(run: Run, repo_id: str, token: str | None, private: bool = False, api=None) -> str:
    """Push the run's adapter (tokenizer, card, settings and evaluation along) to a model repository;
    returns its URL. ``api`` is an ``HfApi`` (a fake one in tests); made from ``token`` when None."""
    repo_id = check_push(repo_id, token)
    _shareable(run)
    _require_hub(api, repo_id)
    config = run.config()
    card = write_model_card(run, repo_id)
    with tempfile.TemporaryDirectory(prefix="rlhf-push-") as tmp:
        staged = Path(tmp) / "repo"
        _staged_adapter(run.adapter, staged, hub_model_id(config.get("model")))
        if sft := read_json(run.adapter / POLICY_INFO, {}).get("sft_adapter"):
            _staged_adapter(Path(sft), staged / "sft_adapter", hub_model_id(config.get("model")))
        shutil.copy(card, staged / CARD)
        shutil.copy(run.config_path, staged / "training_config.json")
        if (evaluation := run.read_eval()) is not None:
            (staged / "eval.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
        return _upload(_hub_api(api, token), staged, repo_id, "model", private, f"{run.id} from RLHF Playground")


def dataset_card(name: str, meta: dict, repo_id: str) -> str:
    """A workspace dataset's card: what it holds, in TRL's terms, and where it came from."""
    source = Path(str(meta.get("source", ""))).name  # a file's name, never this machine's path
    columns = ", ".join(f"`{c}`" for c in meta.get("columns", []))
    lines = [
        "---",
        "tags:",
        *(f"- {t}" for t in ("rlhf-playground", "trl", meta.get("kind", "dataset"))),
        "---",
        "",
        f"# {repo_id.split('/')[-1]}",
        "",
        f"The dataset `{name}` from RLHF Playground: {meta.get('rows', '?')} rows of kind `{meta.get('kind')}` in "
        f"TRL's {meta.get('format')} format (columns {columns}), in `data.jsonl`, from `{source or 'the app'}`.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'rows = load_dataset("{repo_id}", split="train")',
        "```",
    ]
    if meta.get("source") == "labels":
        lines += ["", "The pairs were labelled by people in the app's Label tab; ties and skips are not rows."]
    return "\n".join(lines) + "\n"


def push_dataset(name: str, repo_id: str, token: str | None, private: bool = False, api=None) -> str:
    """Push a workspace dataset (a Data-tab or Label-tab one) to a dataset repository: its rows and a card
    (not the labelling record, which names who chose what); returns the repository's URL."""
    repo_id = check_push(repo_id, token)
    folder = datasets_dir() / safe_name(name, "dataset name")
    if not (folder / "data.jsonl").is_file():
        raise UserError(f"No saved dataset named '{name}': save it on the Data tab first, or pick one from the list.")
    _require_hub(api, repo_id)
    meta = read_json(folder / "meta.json", {})
    with tempfile.TemporaryDirectory(prefix="rlhf-push-") as tmp:
        rows = read_jsonl(folder / "data.jsonl")  # without who labelled a pair and when (Label-tab datasets)
        with open(Path(tmp) / "data.jsonl", "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps({k: v for k, v in row.items() if k not in PRIVATE_COLUMNS}, ensure_ascii=False))
                out.write("\n")
        (Path(tmp) / CARD).write_text(dataset_card(name, meta, repo_id), encoding="utf-8")
        return _upload(_hub_api(api, token), Path(tmp), repo_id, "dataset", private, f"{name} from RLHF Playground")
