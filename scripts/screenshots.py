"""README's screenshots, from real runs of the bundled SmolLM2: ``.venv/bin/python scripts/screenshots.py``.

Starts the app on a fresh workspace, runs the whole demo with its defaults and a DPO run through the
API (about 8 minutes on a 2-core CPU), then opens every tab in headless Chromium and saves
``docs/<tab>.png``. Needs Debian's chromium (``make browser``); nothing here is faked or tiny.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from gradio_client import Client
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from serve import running_app  # noqa: E402

DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu"]
WAIT_MS = 600_000


def wait(client: Client, run_id: str) -> dict:
    while (status := client.predict(run_id, api_name="/run_status"))["state"] in ("queued", "running"):
        time.sleep(5)
    print(f"{run_id}: {status['state']} ({status.get('reason')})", flush=True)
    return status


def runs(client: Client) -> None:
    for sample, name in (("prompts", "prompts"), ("preference-chat", "pref")):
        client.predict(sample=sample, upload=None, api_name="/load_data")
        client.predict("(auto)", "", "", api_name="/prepare_data")
        client.predict(name, api_name="/save_data")
    _, demo = client.predict(api_name="/demo_start")  # the workshop demo with its defaults
    assert wait(client, demo)["state"] == "finished"
    _, dpo = client.predict(dataset="pref", eval_dataset="prompts", api_name="/dpo_start")
    assert wait(client, dpo)["state"] == "finished"


def shot(page, name: str) -> None:
    page.wait_for_timeout(1500)  # let plots finish drawing
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)
    print(f"docs/{name}.png", flush=True)


def tab(page, name: str, elem_id: str):
    page.get_by_role("tab", name=name).click()
    return page.locator(f"#{elem_id}")


def finished(panel) -> None:
    expect(panel.locator(".run-progress:visible").first).to_contain_text("finished", timeout=WAIT_MS)


def browse(page) -> None:
    demo = page.locator("#tab-demo")
    finished(demo)
    expect(demo.locator("#demo-steps")).to_contain_text("against the base", timeout=WAIT_MS)
    shot(page, "demo-tab")

    data = tab(page, "1 · Data", "tab-data")
    data.get_by_role("combobox", name="Bundled sample").click()
    page.get_by_role("option", name="preference-chat", exact=True).click()
    data.get_by_role("button", name="Load").click()
    expect(data.get_by_text("rows from")).to_be_visible(timeout=WAIT_MS)
    data.get_by_role("button", name="Extract & normalise").click()
    expect(data.get_by_text("Prompts extracted")).to_be_visible(timeout=WAIT_MS)
    shot(page, "data-tab")

    label = tab(page, "1b · Label", "tab-label")
    expect(label.locator("#label-answer-a textarea")).not_to_have_value("", timeout=WAIT_MS)
    shot(page, "label-tab")
    label.get_by_text("Class mode", exact=True).click()
    label.locator("#label-class-start").click()
    expect(label.locator("#label-class-code-shown")).to_contain_text(re.compile(r"[A-Z0-9]{4,}"), timeout=WAIT_MS)
    shot(page, "label-class")

    for name, elem_id, picture in (
        ("2 · Fine-tune", "tab-sft", "finetune-tab"),
        ("3 · Reward model", "tab-reward", "reward-tab"),
        ("4 · PPO", "tab-ppo", "ppo-tab"),
        ("6 · Compare", "tab-compare", "compare-tab"),
    ):
        finished(tab(page, name, elem_id))
        shot(page, picture)

    methods = tab(page, "5 · DPO · GRPO · RLOO", "tab-methods")
    methods.get_by_role("tab", name="DPO").click()
    finished(methods)
    methods.get_by_role("button", name="Refresh").click()
    expect(methods.get_by_text("finished run(s) with base model")).to_be_visible(timeout=WAIT_MS)
    shot(page, "methods-tab")

    explore = tab(page, "Try models", "tab-explore")
    explore.get_by_role("button", name="Generate").click()
    expect(explore.locator("#explore-outputs")).to_contain_text(
        re.compile("positive|neutral|negative"), timeout=WAIT_MS
    )
    shot(page, "explore-tab")


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    workspace = Path(tempfile.mkdtemp(prefix="rlhf-shots-")) / "workspace"
    workspace.mkdir()
    began = time.monotonic()
    with running_app(workspace, timeout=600) as url:
        runs(Client(url, verbose=False))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            browse(page)
            browser.close()
    print(f"done in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
