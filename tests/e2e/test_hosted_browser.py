"""Hosted mode in a real browser: the page's cookie keeps a private workspace across reloads, and
only that browser can download what it saved."""

from __future__ import annotations

from urllib.parse import urljoin

from serve import running_app
from test_workshop_flow import CHROMIUM, FLAGS, UI_MS, pytestmark, save_sample, sync_api, tab  # noqa: F401


def test_a_reload_keeps_your_datasets_and_another_browser_never_sees_them(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with running_app(workspace, RLHF_HOSTED="1") as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(UI_MS)
        page.goto(url)
        save_sample(page, "prompts", "my-prompts")
        assert any(c["name"] == "rlhf_session" for c in page.context.cookies())
        link = page.locator("#tab-data a[href*='data.jsonl']").first
        sync_api.expect(link).to_be_attached()
        download = urljoin(url, link.get_attribute("href"))
        assert page.request.get(download).status == 200 and b"prompt" in page.request.get(download).body()
        page.reload()
        sync_api.expect(tab(page, "1 · Data", "tab-data")).to_contain_text("my-prompts")

        stranger = browser.new_context().new_page()  # another browser: its own cookie, its own workspace
        stranger.goto(url)
        sync_api.expect(tab(stranger, "1 · Data", "tab-data")).to_contain_text("Datasets in the workspace")
        stranger.wait_for_timeout(1000)
        assert "my-prompts" not in stranger.locator("#tab-data").inner_text()
        assert stranger.request.get(download).status == 403  # the link alone is not enough
        assert len(list((workspace / "sessions").iterdir())) == 2
        browser.close()
