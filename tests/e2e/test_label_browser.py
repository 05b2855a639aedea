"""The Label tab in a real browser, on the tiny model: label with the buttons and the keys, undo, train a
reward model on the labels and find it in PPO's menu; a class labelled from two browsers, and a third
browser without the code that sees nothing of it."""

from __future__ import annotations

import json
import re
import shutil

from serve import running_app
from test_workshop_flow import CHROMIUM, FLAGS, TRAIN_MS, UI_MS, WORK_MS, pytestmark, shot, sync_api, tab  # noqa: F401

expect = sync_api.expect


def answers_shown(panel) -> str:
    """Wait until a pair is on screen; returns answer A."""
    a = panel.locator("#label-answer-a textarea")
    expect(a).not_to_have_value("", timeout=WORK_MS)  # the first pair loads the model
    return a.input_value()


def labels_counted(panel, n: int) -> None:
    expect(panel.locator("#label-stats")).to_contain_text(f"{n} labels", timeout=WORK_MS)


def test_label_undo_train_and_find_the_reward_model_in_ppo(tmp_path, tiny_model_dir):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with (
        running_app(workspace, RLHF_LABEL_MODEL=str(tiny_model_dir)) as url,
        sync_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(UI_MS)
        page.goto(url)
        panel = tab(page, "1b · Label", "tab-label")
        answers_shown(panel)  # the tab opens ready: no click needed
        labels_counted(panel, 0)
        for n, button in enumerate(["label-a", "label-b", "label-a", "label-b"], start=1):
            panel.locator(f"#{button}").click()
            labels_counted(panel, n)
        panel.locator("#label-tie").click()
        expect(panel.locator("#label-stats")).to_contain_text("1 ties")
        page.locator("body").click(position={"x": 5, "y": 5})  # no text field has the focus: keys work
        page.keyboard.press("1")
        labels_counted(panel, 5)
        page.keyboard.press("2")
        labels_counted(panel, 6)
        page.keyboard.press("u")
        labels_counted(panel, 5)
        shot(page, "label-tab")
        rows = [json.loads(line) for line in (workspace / "datasets" / "my-labels" / "data.jsonl").open()]
        assert len(rows) == 5 and all(r["prompt"] and r["chosen"] != r["rejected"] for r in rows)

        panel.locator("#label-train-reward").click()
        expect(panel.locator("#label-train-message")).to_contain_text("started")
        run_id = re.search(r"Reward run (\S+) started", panel.locator("#label-train-message").inner_text()).group(1)
        status = workspace / "runs" / run_id / "status.json"
        rm = tab(page, "3 · Reward model", "tab-reward")
        expect(rm.locator(".run-progress")).to_contain_text("finished", timeout=TRAIN_MS)
        assert json.loads(status.read_text())["state"] == "finished"
        ppo = tab(page, "4 · PPO", "tab-ppo")
        ppo.locator("#ppo-reward").get_by_role("combobox").click()
        expect(page.get_by_role("option", name=f"reward:{run_id}")).to_be_visible()
        browser.close()


def test_a_class_from_three_browsers(tmp_path, tiny_model_dir):
    workspace, cache = tmp_path / "workspace", tmp_path / "cache"
    workspace.mkdir()
    shutil.copytree(tiny_model_dir, cache / "tiny")
    env = {"RLHF_HOSTED": "1", "RLHF_CACHE_DIR": str(cache), "RLHF_LABEL_MODEL": str(cache / "tiny")}
    with running_app(workspace, **env) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

        def person():
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(UI_MS)
            page.goto(url)
            panel = tab(page, "1b · Label", "tab-label")
            answers_shown(panel)
            panel.get_by_text("Class mode").click()
            return page, panel

        teacher, teacher_panel = person()
        teacher_panel.locator("#label-class-start").click()
        code = teacher_panel.locator("#label-class-code-shown")
        expect(code).to_have_text(re.compile(r"^[A-Z2-9]{5}$"))
        code = code.inner_text()
        for _ in range(2):
            _, panel = person()
            panel.locator("#label-class-code input, #label-class-code textarea").first.fill(code)
            panel.locator("#label-class-join").click()
            expect(panel.locator("#label-class-stats")).to_contain_text("you are an attendee")
            expect(panel.locator("#label-prompt")).to_contain_text(f"class {code}")
            panel.locator("#label-a").click()
            expect(panel.locator("#label-stats")).to_contain_text("1 labels")
        stats = teacher_panel.locator("#label-class-stats")  # the counter is live: no click
        expect(stats).to_contain_text("2 labels from 2 attendees", timeout=WORK_MS)
        shot(teacher, "label-class")

        _, stranger = person()
        expect(stranger.locator("#label-class-stats")).to_contain_text("Not in a class")
        expect(stranger.locator("#label-stats")).to_contain_text("0 labels")
        assert code not in stranger.inner_text()
        stranger.locator("#label-class-code input, #label-class-code textarea").first.fill("ZZZZZ")
        stranger.locator("#label-class-join").click()
        expect(stranger.locator("#label-class-stats")).to_contain_text("There is no class 'ZZZZZ'")
        browser.close()
