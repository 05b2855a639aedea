"""Data tab: load a dataset, see what it is, extract prompts, save it for the later tabs."""

from __future__ import annotations

import gradio as gr

from .. import data
from ..data import drafts
from ..errors import UserError
from .common import problem, table
from .sessions import offer_download
from .take_home import dataset_share_row

SOURCES = ["Bundled sample", "Upload a file", "Hugging Face Hub"]
DRAFT_TTL_S = 3600  # a loaded or prepared table is kept this long after its last use

INTRO = """
### Step 1 · Data
RLHF uses two kinds of datasets. A **prompt dataset** holds only the inputs a model answers:
it feeds supervised fine-tuning and PPO. A **preference dataset** holds, for each prompt, a
*chosen* and a *rejected* answer: a reward model (or DPO) learns from it which answers people prefer.
Load one, check what was detected, pull the prompts out of its text (chat turns or markers such as
`Human:`, `###Human:`, `Input=`, `{{Text}}:`), and save it in TRL's format for the next tabs.
"""


def load(
    source: str,
    sample: str,
    upload,
    hub_name: str,
    hub_config: str,
    hub_split: str,
    hub_limit,
    previous: str | None = None,
):
    """Load the chosen source; returns the table (a draft's path, for the state, replacing ``previous``),
    a summary, column types and the first rows."""
    drafts.forget(previous)  # the state holds the new draft, or none after an error
    try:
        if source == "Upload a file":
            if not upload:
                raise UserError("Choose a file to upload first (CSV, JSON, JSON Lines, Parquet or .jsonl.gz).")
            loaded = data.load_file(upload)
        elif source == "Hugging Face Hub":
            if not (hub_name or "").strip():
                raise UserError("Type a dataset name from the Hub, e.g. 'imdb' or 'owner/name'.")
            limit = int(hub_limit) if hub_limit else None
            loaded = data.load_hub(
                hub_name.strip(),
                config=(hub_config or "").strip() or None,
                split=(hub_split or "").strip() or "train",
                limit=limit,
            )
        else:
            loaded = data.load_sample(sample)
    except UserError as exc:
        return None, problem(exc), None, None, gr.update(choices=["(auto)"], value="(auto)"), ""
    found = data.detect(loaded)
    types = data.column_types(loaded)
    columns = table([{"column": c, "type": t} for c, t in types.items()], ["column", "type"], limit=None, cut=False)
    summary = f"**{len(loaded.rows)} rows** from `{loaded.source}` · detected: **{found.description}**"
    name = default_name(loaded.source)
    return (
        drafts.keep(loaded),
        summary,
        columns,
        table(loaded.rows, loaded.columns),
        gr.update(choices=["(auto)", *loaded.columns], value="(auto)"),
        name,
    )


def default_name(source: str) -> str:
    """A dataset name to start from: the file stem, sample name or last part of a hub name."""
    import re
    from pathlib import PurePath

    stem = PurePath(source.split(":", 1)[-1]).name
    stem = re.sub(r"(\.(jsonl|json|ndjson|csv|tsv|parquet|gz))+$", "", stem)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "dataset"


def prepare(draft: str | None, column: str, marker: str, regex: str, previous: str | None = None):
    """Extract prompts and normalise to TRL's format; returns the result (a draft, replacing ``previous``),
    stats and a preview."""
    drafts.forget(previous)
    loaded = drafts.take(draft)
    if loaded is None:
        return None, problem(UserError("Load a dataset first.")), None
    try:
        result = data.prepare(
            loaded,
            column=None if column in (None, "", "(auto)") else column,
            marker=(marker or None),
            regex=(regex or None),
        )
    except UserError as exc:
        return None, problem(exc), None
    preview = table(result.rows, list(result.rows[0]) if result.rows else [])
    return drafts.keep(result), stats_text(result.summary()), preview


def stats_text(summary: dict) -> str:
    lines = [
        f"**{summary['rows']} rows** ready in TRL's *{summary.get('format') or summary['kind']}* format "
        f"(from {summary['source_rows']})."
    ]
    if summary.get("prompts_extracted") is not None:
        lines.append(f"Prompts extracted: **{summary['prompts_extracted']}**, skipped: **{summary['skipped']}**.")
    reasons = {**summary.get("skip_reasons", {}), **summary.get("dropped", {})}
    if reasons:
        lines.append("Left out: " + ", ".join(f"{why} ({n})" for why, n in reasons.items()) + ".")
    return "  \n".join(lines)


def save(draft: str | None, name: str):
    """Save the prepared dataset in the workspace; returns a status, the file to download and the list."""
    result = drafts.take(draft)
    if result is None:
        return problem(UserError("Extract and normalise the dataset first.")), None, saved_table()
    try:
        path = data.save_dataset(result, name)
    except UserError as exc:
        return problem(exc), None, saved_table()
    return (
        f"Saved **{path.name}** ({len(result.rows)} rows). The next tabs list it in their dataset menus.",
        offer_download(path / "data.jsonl"),
        saved_table(),
    )


def saved_table() -> dict:
    """The workspace's saved datasets, for the list under Save."""
    return table(data.list_datasets(), ["name", "kind", "format", "rows", "source"], limit=None, cut=False)


def saved_names() -> list[str]:
    return [m.get("name") for m in data.list_datasets()]


def build() -> gr.Dataframe:
    """Lay out the tab inside the current ``gr.Tab`` context; returns the table of saved datasets."""
    gr.Markdown(INTRO)
    loaded = gr.State(None, time_to_live=DRAFT_TTL_S, delete_callback=drafts.forget)
    prepared = gr.State(None, time_to_live=DRAFT_TTL_S, delete_callback=drafts.forget)
    with gr.Row():
        with gr.Column(scale=1):
            source = gr.Radio(SOURCES, value=SOURCES[0], label="Source")
            sample = gr.Dropdown(list(data.SAMPLES), value=next(iter(data.SAMPLES)), label="Bundled sample")
            # No file_types filter: the loader itself explains what it can read.
            upload = gr.File(label="File (CSV, JSON, JSON Lines, Parquet, .jsonl.gz)", visible=False)
            with gr.Group(visible=False) as hub_box:
                hub_name = gr.Textbox("", label="Dataset name", placeholder="e.g. trl-lib/ultrafeedback_binarized")
                with gr.Row():
                    hub_config = gr.Textbox("", label="Config (optional)")
                    hub_split = gr.Textbox(label="Split", value="train")
                    hub_limit = gr.Number(label="Row limit", value=1000, precision=0, minimum=1)
            load_btn = gr.Button("Load", variant="primary")
        with gr.Column(scale=2):
            summary = gr.Markdown("Pick a source and press **Load**.")
            columns = gr.Dataframe(label="Columns", interactive=False)
    rows = gr.Dataframe(label="First rows", interactive=False, wrap=True)

    gr.Markdown("#### Prompt extraction and normalisation")
    with gr.Row():
        column = gr.Dropdown(["(auto)"], value="(auto)", label="Text column")
        marker = gr.Textbox(label="Custom marker (optional)", placeholder="e.g. Question:")
        regex = gr.Textbox(label="Or a regex (first group is the prompt)", placeholder=r"e.g. Q: (.*?) A:")
        prepare_btn = gr.Button("Extract & normalise", variant="primary")
    stats = gr.Markdown()
    normalised = gr.Dataframe(label="Normalised rows", interactive=False, wrap=True)

    gr.Markdown("#### Save for the next tabs")
    with gr.Row():
        name = gr.Textbox(label="Dataset name", placeholder="my-prompts")
        save_btn = gr.Button("Save to workspace", variant="primary")
    save_status = gr.Markdown()
    download = gr.File(label="Download (JSON Lines)", interactive=False, height=80)
    saved = gr.Dataframe(label="Datasets in the workspace", interactive=False)
    with gr.Accordion("Share a saved dataset to the Hugging Face Hub", open=False):
        # filled when opened: the choices of a shared app's page are per session, never the build's
        to_share = gr.Dropdown([], label="Saved dataset", allow_custom_value=True)
        to_share.focus(lambda: gr.update(choices=saved_names()), None, to_share, api_visibility="private")
        dataset_share_row(to_share, "share_data")

    source.change(
        lambda s: (
            gr.update(visible=s == SOURCES[0]),
            gr.update(visible=s == SOURCES[1]),
            gr.update(visible=s == SOURCES[2]),
        ),
        source,
        [sample, upload, hub_box],
        api_visibility="private",
    )
    load_btn.click(
        load,
        [source, sample, upload, hub_name, hub_config, hub_split, hub_limit, loaded],
        [loaded, summary, columns, rows, column, name],
        api_name="load_data",
    )
    prepare_btn.click(
        prepare, [loaded, column, marker, regex, prepared], [prepared, stats, normalised], api_name="prepare_data"
    )
    save_btn.click(save, [prepared, name], [save_status, download, saved], api_name="save_data")
    return saved
