"""The workshop flow in a real browser (headless Chromium via Playwright), on the tiny model.

It clicks through the tabs as an attendee would and checks what a person sees; it also saves a
screenshot of every tab (into ``RLHF_E2E_SHOTS``, by default a folder in the temporary directory:
the tiny model's answers are gibberish; README's screenshots come from ``scripts/screenshots.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from serve import ROOT, running_app

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("RLHF_E2E_SHOTS") or Path(tempfile.gettempdir()) / "rlhf-e2e-screenshots")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Waits are for what a person would see, never for how soon: a busy machine (or the app's first use of a
# library) can take far longer than Playwright's own 5 s default for an expect(...), and still be right.
UI_MS = 60_000  # a page update: a click's answer, a tab opening
WORK_MS = 180_000  # the app loads something first: a dataset, a model, a scorer, a run's results
TRAIN_MS = 600_000  # a job: its process starts, imports torch and the trainer, loads the model and trains
sync_api.expect.set_options(timeout=UI_MS)  # for every expect(...) below and in the tests that import these


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("e2e") / "workspace"
    workspace.mkdir()
    with running_app(workspace) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.workspace = workspace
        page.set_default_timeout(UI_MS)
        page.goto(url)
        yield page
        browser.close()


def tab(page, name: str, elem_id: str):
    page.get_by_role("tab", name=name).click()
    return page.locator(f"#{elem_id}")


def fill(panel, elem_id: str, value) -> None:
    """Type into a textbox, number or dropdown found by its element id, then leave it."""
    field = panel.locator(f"#{elem_id}").locator("textarea, input").first
    field.fill(str(value))
    field.press("Tab")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def save_sample(page, sample: str, name: str) -> None:
    data = tab(page, "1 · Data", "tab-data")
    data.get_by_role("combobox", name="Bundled sample").click()
    page.get_by_role("option", name=sample, exact=True).click()
    data.get_by_role("button", name="Load").click()
    sync_api.expect(data.get_by_text("rows from")).to_be_visible(timeout=WORK_MS)  # the first load imports a lot
    data.get_by_role("button", name="Extract & normalise").click()
    sync_api.expect(data.get_by_text("Prompts extracted")).to_be_visible(timeout=WORK_MS)
    data.get_by_role("textbox", name="Dataset name").fill(name)
    data.get_by_role("button", name="Save to workspace").click()
    sync_api.expect(data.get_by_text(f"Saved {name}")).to_be_visible(timeout=WORK_MS)


def wait_finished(panel, steps: int, timeout: float = TRAIN_MS) -> None:
    sync_api.expect(panel.locator(".run-progress")).to_contain_text(f"finished: step {steps}/{steps}", timeout=timeout)


def test_workshop_flow(page, tiny_model_dir):
    save_sample(page, "prompts", "prompts")
    sync_api.expect(page.locator("#tab-data").get_by_text("Prompts only")).to_be_visible()
    save_sample(page, "preference-chat", "pref")
    shot(page, "data-tab")

    sft = tab(page, "2 · Fine-tune", "tab-sft")
    fill(sft, "sft-model", tiny_model_dir)
    fill(sft, "sft-dataset", "pref")
    sft.get_by_text("Training", exact=True).click()
    fill(sft, "sft-max_steps", 3)
    sft.get_by_text("4-bit (QLoRA) and saving").click()
    command = sft.locator(".cm-content")
    if not sft.locator("#sft-load_in_4bit input").is_checked():  # 4-bit is on by default only with a GPU
        sync_api.expect(command).to_contain_text("--no-load-in-4bit")
        sft.locator("#sft-load_in_4bit input").check()
    sft.get_by_text("Samples at the end").click()
    fill(sft, "sft-eval_prompts", 2)
    fill(sft, "sft-max_new_tokens", 6)
    sync_api.expect(command).to_contain_text("--max-steps 3")
    sync_api.expect(command).not_to_contain_text("load-in-4bit")
    sft.get_by_role("button", name="Start training").click()
    wait_finished(sft, 3)
    sync_api.expect(sft.get_by_text("Answers before (base) and after (tuned)")).to_be_visible(timeout=WORK_MS)
    shot(page, "finetune-tab")

    rm = tab(page, "3 · Reward model", "tab-reward")
    fill(rm, "reward-model", tiny_model_dir)
    fill(rm, "reward-dataset", "pref")
    rm.get_by_text("Training", exact=True).click()
    fill(rm, "reward-max_steps", 4)
    fill(rm, "reward-eval_steps", 2)
    rm.get_by_role("button", name="Start training").click()
    wait_finished(rm, 4)
    sync_api.expect(rm.get_by_text("held-out pairs · mean margin")).to_be_visible(timeout=WORK_MS)
    rm.get_by_role("combobox", name="Reward model run").click()
    page.get_by_role("option").filter(has_text="reward").first.click()
    rm.get_by_role("textbox", name="Prompt").fill("How do I keep basil alive?")
    rm.get_by_role("textbox", name="Answer A").fill("Water it when the soil is dry and give it sun.")
    rm.get_by_role("textbox", name="Answer B (optional)").fill("No idea.")
    rm.get_by_role("button", name="Score").click()
    sync_api.expect(rm.get_by_text("P(A better than B)")).to_be_visible(timeout=WORK_MS)  # loads the reward model
    shot(page, "reward-tab")

    ppo = tab(page, "4 · PPO", "tab-ppo")
    fill(ppo, "ppo-model", tiny_model_dir)
    fill(ppo, "ppo-dataset", "prompts")
    ppo.locator("#ppo-reward").get_by_role("combobox").click()
    page.get_by_role("option").filter(has_text="reward:").first.click()
    fill(ppo, "ppo-steps", 2)
    ppo.get_by_text("Sampling", exact=True).click()
    fill(ppo, "ppo-max_new_tokens", 6)
    ppo.get_by_role("button", name="Start training").click()
    wait_finished(ppo, 2)
    sync_api.expect(ppo.get_by_text("before →")).to_be_visible(timeout=WORK_MS)
    shot(page, "ppo-tab")

    methods = tab(page, "5 · DPO · GRPO · RLOO", "tab-methods")
    methods.get_by_role("tab", name="GRPO").click()
    fill(methods, "grpo-model", tiny_model_dir)
    fill(methods, "grpo-dataset", "prompts")
    fill(methods, "grpo-steps", 2)
    methods.get_by_text("Sampling", exact=True).last.click()
    fill(methods, "grpo-max_new_tokens", 6)
    methods.locator("button:visible", has_text="Start training").click()
    sync_api.expect(methods.locator(".run-progress:visible")).to_contain_text("finished: step 2/2", timeout=TRAIN_MS)
    methods.get_by_role("button", name="Refresh").click()
    sync_api.expect(methods.get_by_text("finished run(s) with base model")).to_be_visible(timeout=WORK_MS)
    shot(page, "methods-tab")

    compare = tab(page, "6 · Compare", "tab-compare")
    fill(compare, "compare-base", tiny_model_dir)
    for stage in ("sft", "ppo"):
        compare.locator("#compare-tuned").get_by_role("listbox").click()
        page.get_by_role("option").filter(has_text=f"{stage} ·").first.click()
    compare.locator("#compare-prompts_text textarea").fill("Hi\nHow was your day?\nTell me about the sea")
    compare.get_by_text("Generation (the same for every model)").click()
    fill(compare, "compare-max_new_tokens", 6)
    sync_api.expect(compare.locator(".cm-content")).to_contain_text("rlhf_playground compare")
    compare.get_by_role("button", name="Compare").click()
    wait_finished(compare, 4)
    sync_api.expect(compare.locator("#compare-summary")).to_contain_text("against the base", timeout=WORK_MS)
    sync_api.expect(compare.locator("#compare-table")).to_contain_text("Tell me about the sea", timeout=WORK_MS)
    sync_api.expect(compare.locator("a[href$='table.csv']")).to_be_visible(timeout=WORK_MS)
    shot(page, "compare-tab")

    explore = tab(page, "Try models", "tab-explore")
    explore.get_by_role("combobox", name="Model").fill(str(tiny_model_dir))
    explore.get_by_role("combobox", name="Model").press("Enter")
    explore.get_by_role("button", name="Generate").click()
    sync_api.expect(explore.locator("#explore-outputs")).to_contain_text(
        re.compile("positive|neutral|negative"), timeout=WORK_MS
    )  # loads the model
    sync_api.expect(explore.locator(".cm-content")).to_contain_text('pipeline("text-generation"')
    explore.get_by_role("button", name="Analyse").click()
    sync_api.expect(explore.get_by_text("positive share/probability")).to_be_visible(timeout=WORK_MS)
    shot(page, "explore-tab")


def test_whole_demo_button(page, tiny_model_dir):
    demo = tab(page, "▶ Whole demo", "tab-demo")
    fill(demo, "demo-model", tiny_model_dir)
    for name, value in [
        ("sft_steps", 2),
        ("reward_steps", 2),
        ("ppo_steps", 1),
        ("compare_prompts", 2),
        ("max_new_tokens", 4),
    ]:
        fill(demo, f"demo-{name}", value)
    sync_api.expect(demo.locator(".cm-content")).to_contain_text("--ppo-steps 1")
    demo.get_by_role("button", name="Run the whole demo").click()
    wait_finished(demo, 4, timeout=3 * TRAIN_MS)  # four jobs, one after another
    steps = demo.locator("#demo-steps")
    for stage in ("sft", "reward", "ppo", "compare"):
        sync_api.expect(steps).to_contain_text(re.compile(rf"{stage}: run \S+ finished"), timeout=WORK_MS)
    sync_api.expect(steps).to_contain_text("against the base", timeout=WORK_MS)
    shot(page, "demo-tab")
    compare = tab(page, "6 · Compare", "tab-compare")  # the tab follows the demo's comparison when opened
    sync_api.expect(compare.locator(".run-progress")).to_contain_text("finished: step 4/4", timeout=WORK_MS)


def test_the_methods_tab_follows_a_run_started_from_a_terminal(page, tiny_model_dir, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(f'{{"prompt": "Tell me about {t}."}}\n' for t in "abcdefgh"), encoding="utf-8")
    page.goto(page.url)
    methods = tab(page, "5 · DPO · GRPO · RLOO", "tab-methods")
    methods.get_by_role("tab", name="GRPO").click()
    progress = methods.locator(".run-progress:visible")
    sync_api.expect(methods.locator(".cm-content:visible")).to_contain_text("rlhf_playground grpo")  # page loaded
    page.wait_for_timeout(1000)
    sync_api.expect(methods).not_to_contain_text("finished: step 1/1")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rlhf_playground",
            "grpo",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            str(prompts),
            "--steps",
            "1",
            "--batch-size",
            "4",
            "--num-generations",
            "2",
            "--max-new-tokens",
            "4",
            "--eval-prompts",
            "2",
        ],
        cwd=ROOT,
        env={**os.environ, "RLHF_WORKSPACE": str(page.workspace)},
        check=True,
        capture_output=True,
    )
    tab(page, "1 · Data", "tab-data")
    tab(page, "5 · DPO · GRPO · RLOO", "tab-methods")  # coming back shows the newest run
    sync_api.expect(progress).to_contain_text("finished: step 1/1", timeout=WORK_MS)


def test_an_idle_page_asks_the_browser_for_no_frames(page):
    """gradio's loading tracker leaves a loop asking for 60 frames a second on every page (ui/status_timer.py)."""
    idle = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
    idle.set_default_timeout(UI_MS)
    idle.add_init_script(
        "window.frames_asked = 0; const ask = window.requestAnimationFrame;"
        "window.requestAnimationFrame = (callback) => { window.frames_asked++; return ask.call(window, callback); };"
    )
    asked = []  # frames asked for in each 2 s, until the page has settled (on gradio's own page, 120 every time)
    try:
        idle.goto(page.url)
        sync_api.expect(tab(idle, "1 · Data", "tab-data")).to_contain_text("Datasets in the workspace")
        deadline = time.monotonic() + UI_MS / 1000
        while not asked or (asked[-1] > 5 and time.monotonic() < deadline):
            before = idle.evaluate("window.frames_asked")
            idle.wait_for_timeout(2000)
            asked.append(idle.evaluate("window.frames_asked") - before)
    finally:
        idle.close()
    assert asked[-1] <= 5, f"frames asked for in each 2 s: {asked}"
