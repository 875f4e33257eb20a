"""The studio page in Debian's headless Chromium, driven by Selenium, against waitress.

The browser and its driver come from Debian's ``chromium`` and ``chromium-driver``
packages; the driver path is given explicitly, so Selenium never looks for or
downloads a browser.
"""

from __future__ import annotations

import os
import shutil

import pytest
from serve_helpers import live_server, make_app, studio_generator, studio_workspace_runs, tiny_model  # noqa: F401

from demographic2art.workspace import Workspace

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 900
CONTROL_IDS = (
    "picker-gender",
    "picker-nationality",
    "picker-template",
    "use-prompt",
    "prompt",
    "negative-prompt",
    "seed-mode",
    "seed",
    "batch-size",
    "steps",
    "guidance-scale",
    "size",
    "scheduler",
    "lora",
    "lora-weight",
    "generate-button",
    "compare-a-gender",
    "compare-b-gender",
    "compare-images",
    "compare-name",
    "compare-button",
    "refresh-gallery",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing; apt-get install chromium"),
    pytest.mark.skipif(
        not os.path.exists(CHROMEDRIVER), reason=f"{CHROMEDRIVER} is missing; apt-get install chromium-driver"
    ),
]


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager stays offline even if some code path were to call it.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,2200",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    # Console messages are read back to check that the page logs no failed requests.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def _select(driver, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", element_id)).select_by_value(value)


def _type(driver, element_id: str, text: str) -> None:
    element = driver.find_element("id", element_id)
    element.clear()
    element.send_keys(text)


def test_studio_in_chromium(browser, make_app, studio_generator, live_server, tmp_path):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    app = make_app(studio_generator, workspace=Workspace(tmp_path / "browser-ws"))
    server = live_server(app)
    browser.get(server.base + "/")
    wait = WebDriverWait(browser, WAIT_S)

    # Pickers build the prompt preview, with its token count, through /api/prompt.
    _select(browser, "picker-gender", "female")
    _select(browser, "picker-nationality", "French")
    wait.until(lambda d: "French" in d.find_element("id", "prompt-preview").text)
    preview = browser.find_element("id", "prompt-preview").text
    assert "female" in preview
    assert int(browser.find_element("id", "token-count").text) > 0
    wait.until(lambda d: len(d.find_elements("css selector", "#lora option")) == 3)

    # Generate one image with the preview as the prompt.
    browser.find_element("id", "use-prompt").click()
    assert browser.find_element("id", "prompt").get_attribute("value") == preview
    _type(browser, "steps", "2")
    _select(browser, "size", "64")
    _type(browser, "seed", "11")
    browser.find_element("id", "generate-button").click()
    wait.until(lambda d: d.find_elements("id", "result-image-0"))
    image = browser.find_element("id", "result-image-0")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 64)
    assert "done" in browser.find_element("id", "job-status").text
    wait.until(lambda d: d.find_elements("css selector", "#gallery img"))
    caption = browser.find_element("css selector", "#gallery figcaption").text
    assert "seed 11" in caption
    assert "2 steps" in caption
    download = browser.find_element("css selector", "#job-result a.download")
    assert download.get_attribute("href").endswith("-0.png?download=1")

    # Reuse a gallery seed: the seed field takes it and gets the focus.
    _type(browser, "seed", "999")
    browser.find_element("css selector", "#gallery figcaption button").click()
    assert browser.find_element("id", "seed").get_attribute("value") == "11"
    assert browser.switch_to.active_element.get_attribute("id") == "seed"

    # A/B comparison: group A, group B, neutral and weight-0 images for one seed.
    _select(browser, "compare-a-gender", "female")
    _select(browser, "compare-b-gender", "male")
    _type(browser, "compare-images", "1")
    _type(browser, "compare-name", "browser-ab")
    browser.find_element("id", "compare-button").click()
    wait.until(lambda d: "done" in d.find_element("id", "compare-status").text)
    headers = [th.text for th in browser.find_elements("css selector", "#compare-head th")]
    assert headers == ["Seed", "gender=female", "gender=male", "neutral", "gender=female (LoRA weight 0)"]
    images = browser.find_elements("css selector", "#compare-grid img.compare-image")
    assert len(images) == 4
    for cell in images:
        wait.until(lambda d, cell=cell: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", cell) == 64)
    assert "portfolios/browser-ab/manifest.json" in browser.find_element("id", "compare-status").text

    # Every control has a label, an aria-label or visible text.
    unlabelled = browser.execute_script(
        """
        return [...document.querySelectorAll('input, select, textarea, button')].filter((el) => {
          if (el.labels && el.labels.length) return false;
          if (el.getAttribute('aria-label')) return false;
          return !(el.tagName === 'BUTTON' && el.textContent.trim());
        }).map((el) => el.id || el.outerHTML);
        """
    )
    assert unlabelled == []

    # Tab reaches every control, in page order, from the keyboard alone.
    browser.find_element("id", "picker-gender").click()
    browser.find_element("tag name", "body").click()
    browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    focused = []
    body = browser.switch_to.active_element
    body.send_keys(Keys.TAB)
    for _ in range(120):
        element_id = browser.switch_to.active_element.get_attribute("id")
        focused.append(element_id)
        browser.switch_to.active_element.send_keys(Keys.TAB)
    missing = [control for control in CONTROL_IDS if control not in focused]
    assert missing == []
    # The tab cycle may start anywhere, so the order is checked from the first picker on.
    cycle = focused[focused.index("picker-gender") :]
    assert cycle.index("generate-button") < cycle.index("compare-button")

    # Enter on the focused Generate button submits from the keyboard.
    _type(browser, "seed", "12")
    browser.find_element("id", "generate-button").send_keys(Keys.ENTER)
    wait.until(lambda d: "seed 12" in d.find_element("id", "gallery").text)

    # Picked attributes and an empty prompt field: the server composes the prompt, so
    # Generate works without "Use this prompt".
    _type(browser, "prompt", "")
    _type(browser, "seed", "13")
    browser.find_element("id", "generate-button").click()
    wait.until(lambda d: "seed 13" in d.find_element("id", "gallery").text)
    assert browser.find_element("id", "job-error").text == ""
    assert "done" in browser.find_element("id", "job-status").text
    image = browser.find_element("id", "result-image-0")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 64)
    newest = browser.find_element("css selector", "#gallery figcaption").text
    assert newest.startswith(f"{preview} | seed 13")

    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []

    screenshot = tmp_path / "studio.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
