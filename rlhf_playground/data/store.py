"""Prepared datasets on disk: ``<dir>/data.jsonl`` plus ``<dir>/meta.json``.

A dataset folder appears whole or not at all: it is written under a temporary name
next to its final place and renamed into place, so a crash never leaves half a dataset
for the later tabs to pick up.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from ..workspace import datasets_dir, safe_name
from .prepare import Prepared


def _meta(prepared: Prepared, name: str) -> dict:
    columns = list(dict.fromkeys(k for row in prepared.rows for k in row))
    meta = {
        "name": name,
        "kind": prepared.kind,
        "format": prepared.format,
        "rows": len(prepared.rows),
        "source": prepared.source,
        "created": datetime.now(timezone.utc).isoformat(),
        "columns": columns,
        "summary": prepared.summary(),
    }
    if prepared.label_names:
        meta["label_names"] = prepared.label_names
    return meta


def write_prepared(prepared: Prepared, out_dir) -> Path:
    """Write (or replace) ``out_dir`` atomically; refuses to replace a folder that isn't a dataset."""
    out_dir = Path(out_dir).expanduser().resolve()
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "meta.json").exists())):
        raise UserError(f"'{out_dir}' already exists and isn't a prepared dataset: pick a new folder.")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        with open(tmp / "data.jsonl", "w", encoding="utf-8") as f:
            for row in prepared.rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        (tmp / "meta.json").write_text(
            json.dumps(_meta(prepared, out_dir.name), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        if out_dir.exists():
            old = out_dir.with_name(f"{tmp.name}.old")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def save_dataset(prepared: Prepared, name: str, *, overwrite: bool = False) -> Path:
    """Save into the workspace as ``name``, where the training tabs find it."""
    name = safe_name(name, "dataset name")
    path = datasets_dir() / name
    if path.exists() and not overwrite:
        raise UserError(f"A dataset named '{name}' already exists: pick another name.")
    return write_prepared(prepared, path)


def save_sample(sample: str, name: str) -> bool:
    """Save the bundled ``sample``, prepared, as the workspace dataset ``name`` unless it is there; True if saved."""
    from .load import load_sample
    from .prepare import prepare

    if (datasets_dir() / name / "data.jsonl").is_file():
        return False
    save_dataset(prepare(load_sample(sample)), name, overwrite=True)
    return True


def list_datasets(kinds=None) -> list[dict]:
    """Meta of every saved dataset (optionally only these kinds), newest first."""
    kinds = {kinds} if isinstance(kinds, str) else set(kinds) if kinds else None
    metas = []
    for folder in datasets_dir().iterdir():
        if folder.name.startswith(".") or not (folder / "data.jsonl").is_file():
            continue
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and (kinds is None or meta.get("kind") in kinds):
            metas.append({**meta, "name": folder.name})
    return sorted(metas, key=lambda m: (str(m.get("created", "")), m["name"]), reverse=True)


def dataset_path(name: str) -> Path:
    path = datasets_dir() / safe_name(name, "dataset name") / "data.jsonl"
    if not path.is_file():
        names = [m["name"] for m in list_datasets()]
        have = f"saved ones: {', '.join(names)}" if names else "none is saved yet: prepare one in the Data tab"
        raise UserError(f"There is no saved dataset '{name}' ({have}).")
    return path


def read_dataset(name: str) -> list[dict]:
    with open(dataset_path(name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
