"""Taking work home from the UI: a finished run as one zip, and "Share to the Hub" for runs and datasets.

The token is the person's own: on a Space, from "Sign in with Hugging Face" (gradio's OAuth, the
Space needs ``hf_oauth: true``), held by gradio for that browser's session and never stored by us;
locally, ``HF_TOKEN`` or the saved ``hf auth login``. A shared app never pushes with the host's token.
"""

from __future__ import annotations

import shutil

import gradio as gr

from ..errors import UserError
from ..hosting import is_hosted
from ..jobs import open_run
from ..sharing.share import MODEL_STAGES, push_dataset, push_run, run_zip
from .common import problem
from .sessions import offer_download

SIGN_IN_NOTE = "Sign in with Hugging Face above first: a shared app pushes only with your own account."


def on_a_space() -> bool:
    """Whether gradio's "Sign in with Hugging Face" works here: on a Space (its OAuth app), as gradio tells."""
    from gradio.utils import get_space

    return get_space() is not None


def push_token(oauth: gr.OAuthToken | None) -> str | None:
    """The person's token to push with: the signed-in one, else (not shared) HF_TOKEN or the saved login."""
    if oauth is not None:
        return oauth.token
    if is_hosted():
        return None
    from huggingface_hub import get_token

    return get_token()


def _push(fn, what, repo: str, private: bool, oauth: gr.OAuthToken | None) -> str:
    token = push_token(oauth)
    if token is None and is_hosted():
        return problem(UserError(SIGN_IN_NOTE))
    try:
        url = fn(what, repo, token, private=bool(private))
    except UserError as exc:
        return problem(exc)
    return f"Shared: [{url}]({url})"


def share_run(run_id: str | None, repo: str, private: bool, oauth: gr.OAuthToken | None = None) -> str:
    if not run_id:
        return "No run to share yet: start one, or pick one of the runs list."
    try:
        run = open_run(run_id)
    except UserError as exc:
        return problem(exc)
    return _push(push_run, run, repo, private, oauth)


def share_dataset(name: str | None, repo: str, private: bool, oauth: gr.OAuthToken | None = None) -> str:
    if not name:
        return "Pick a saved dataset to share."
    return _push(push_dataset, name, repo, private, oauth)


def offer_run_zip(run) -> str:
    """The run as one zip, offered for download (a copy in gradio's cache; the zip made for it is removed)."""
    archive = run_zip(run)
    try:
        return offer_download(archive)
    finally:
        shutil.rmtree(archive.parent, ignore_errors=True)


def download_run(run_id: str | None):
    """The shown run as one zip for a ``gr.File``, and a message."""
    if not run_id:
        return None, "No run to download yet."
    try:
        return offer_run_zip(open_run(run_id)), f"Run **{run_id}** as one zip (without its resume checkpoints)."
    except UserError as exc:
        return None, problem(exc)


def hub_widgets(placeholder: str):
    """The sign-in button (on a Space), a repository name, private or not, and the Share button."""
    if on_a_space():
        gr.LoginButton()
    with gr.Row():
        repo = gr.Textbox(label="Hub repository", placeholder=placeholder, scale=3)
        private = gr.Checkbox(label="private", value=True, scale=1)
        button = gr.Button("Share to the Hub", scale=1)
    return repo, private, button


def run_take_home(stage: str, run_id: gr.State) -> None:
    """Under a stage's run monitor: download the shown run, and share its model to the Hub."""
    with gr.Accordion("Take it home: download the run, share it to the Hub", open=False):
        message = gr.Markdown()
        with gr.Row():
            zip_btn = gr.Button("Download run (.zip)", size="sm")
            zip_file = gr.File(label="Run folder", interactive=False, height=80)
        zip_btn.click(download_run, run_id, [zip_file, message], api_name=f"{stage}_download")
        if stage in MODEL_STAGES:
            repo, private, button = hub_widgets(f"your-name/my-{stage}-model")
            button.click(share_run, [run_id, repo, private], message, api_name=f"{stage}_share")


def dataset_share_row(name: gr.components.Component, api_name: str, resolve=None) -> None:
    """Share the dataset ``name`` holds (``resolve`` turns it into the saved dataset's name) to the Hub."""
    repo, private, button = hub_widgets("your-name/my-dataset")
    message = gr.Markdown()

    def share(value, repo_id, is_private, oauth: gr.OAuthToken | None = None):
        try:
            chosen = resolve(value) if resolve else value
        except UserError as exc:
            return problem(exc)
        return share_dataset(chosen, repo_id, is_private, oauth)

    button.click(share, [name, repo, private], message, api_name=api_name)
