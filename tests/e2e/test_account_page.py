"""The account page in a real browser: headless Chromium (Debian's), Playwright, `cutout serve`.

Each test gets a fresh browser context that records every request, console error and
Content-Security-Policy violation; the fixture fails the test if any URL carried the key,
a cookie was set, localStorage was used, or the CSP was violated.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import numpy as np
import pytest
import requests
from e2e_browser import CHROMIUM, CHROMIUM_ARGS, CSP_LISTENER, axe_source
from e2e_local_api import LocalApi, start_local_api
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from cutout.local.moto_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from cutout.service.keys import visible_prefix

API_KEY = "co_live_e2e-account-page-key-for-browser-tests"
# Settings the server starts with, so the page's answers can be checked against them.
SERVER_SETTINGS = {"CUTOUT_SWEEP_INTERVAL_MINUTES": "15", "CUTOUT_RESULT_URL_TTL_SECONDS": "240"}
TRAINING_BUCKET = "cutout-local-training"
DEMO_ACCOUNT = "demo"
PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "chelsea.jpg"
SIZES = {"desktop": (1280, 720), "phone": (390, 844)}
SWITCH = {"role": "switch", "name": "AI Training Data"}


@pytest.fixture(scope="module")
def page_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    api = start_local_api(tmp_path_factory.mktemp("account-page"), API_KEY,
                          extra_env=SERVER_SETTINGS)
    yield api
    api.terminate()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def training_s3(page_api: LocalApi):
    return boto3.client("s3", endpoint_url=page_api.moto_endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)


@dataclass
class Watched:
    """A browser context and page whose traffic and errors are recorded."""

    context: BrowserContext
    page: Page
    requests: list[tuple[str, str]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    allow_refused_loads: bool = False


def open_watched(browser: Browser, size: tuple[int, int] = SIZES["desktop"]) -> Watched:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  accept_downloads=True)
    page = context.new_page()
    watched = Watched(context, page)
    context.expose_function("cutoutReportCsp", lambda text: watched.csp_violations.append(text))
    context.add_init_script(CSP_LISTENER.replace(
        "window.__cspViolations.push(", "window.cutoutReportCsp("))
    page.on("request", lambda r: watched.requests.append((r.method, r.url)))
    page.on("console", lambda m: watched.console_errors.append(m.text)
            if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.console_errors.append(str(e)))
    return watched


def close_watched(watched: Watched) -> None:
    """The promises every test keeps, checked before the context goes."""
    try:
        assert watched.csp_violations == []
        errors = [e for e in watched.console_errors if not (
            watched.allow_refused_loads and e.startswith("Failed to load resource"))]
        assert errors == []
        assert watched.requests, "the page made no request at all"
        assert not [url for _, url in watched.requests if API_KEY in url]
        assert watched.context.cookies() == []
        if not watched.page.is_closed() and watched.page.url.startswith("http"):
            assert watched.page.evaluate("localStorage.length") == 0
    finally:
        watched.context.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    opened = open_watched(browser)
    yield opened
    close_watched(opened)


def sign_in(page: Page, api: LocalApi, key: str = API_KEY) -> None:
    page.goto(f"{api.base_url}/account")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role(**SWITCH)).to_be_visible()


def server_account(api: LocalApi) -> dict:
    answer = requests.get(f"{api.base_url}/v1/account", headers={"x-api-key": api.api_key},
                          timeout=30)
    assert answer.status_code == 200
    return answer.json()


def server_privacy(api: LocalApi) -> dict:
    answer = requests.get(f"{api.base_url}/v1/privacy", headers={"x-api-key": api.api_key},
                          timeout=30)
    assert answer.status_code == 200
    return answer.json()


def kept_for_training(s3) -> list[str]:
    listing = s3.list_object_versions(Bucket=TRAINING_BUCKET, Prefix=f"training/{DEMO_ACCOUNT}/")
    return [v["Key"] for v in listing.get("Versions", [])]


def try_it(watched: Watched, image: Path) -> bytes:
    """Choose a file, remove its background, download the cutout; returns its bytes."""
    page = watched.page
    page.get_by_label("Image (JPEG, PNG or WebP)").set_input_files(str(image))
    page.get_by_role("button", name="Remove the background").click()
    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=180_000)
    expect(page.locator("#try-error")).to_be_empty()
    with page.expect_download() as download:
        download_link.click()
    return Path(download.value.path()).read_bytes()


def assert_png_with_alpha(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGBA"
    low, high = image.getchannel("A").getextrema()
    assert low == 0 and high == 255  # background removed, subject kept


# --- the switch ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_switch_is_the_first_control_after_sign_in_and_visible_without_scrolling(
        browser, page_api, size):
    watched = open_watched(browser, SIZES[size])
    try:
        page = watched.page
        # Given a person who signed in on a screen of this size
        sign_in(page, page_api)
        switch = page.get_by_role(**SWITCH)
        # Then the switch has the focus, and no visible control comes before it
        assert page.evaluate("document.activeElement.id") == "training-switch"
        first = page.evaluate("""() => [...document.querySelectorAll(
            'a[href], button, input, select, textarea, [tabindex]')]
            .filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0)
            .map(e => e.id)[0]""")
        assert first == "training-switch"
        page.keyboard.press("Shift+Tab")  # backwards from the switch: nothing on the page
        assert page.evaluate("document.activeElement === document.body")
        # And it is on the first screen without scrolling
        assert page.evaluate("window.scrollY") == 0
        box = switch.bounding_box()
        width, height = SIZES[size]
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    finally:
        close_watched(watched)


def test_the_switch_starts_off_and_only_a_confirmation_turns_it_on(watched, page_api):
    page = watched.page
    # Given a new account (off by default, as the API says)
    assert server_account(page_api)["training_opt_in"] is False
    sign_in(page, page_api)
    switch = page.get_by_role(**SWITCH)
    expect(switch).to_have_attribute("aria-checked", "false")
    # When the person presses Space on the switch
    switch.focus()
    page.keyboard.press("Space")
    # Then a confirmation says what will be kept, where, for how long and with which key
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    facts = server_privacy(page_api)["facts"]
    expect(dialog).to_contain_text("images you send with this account and the masks")
    expect(dialog).to_contain_text("training store")
    expect(dialog).to_contain_text(f"for {facts['training_retention_days']} days")
    expect(dialog).to_contain_text(facts["kms_key"])
    # And cancelling (Enter on the focused Cancel) changes nothing
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(switch).to_have_attribute("aria-checked", "false")
    # Nor does Escape
    switch.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert server_account(page_api)["training_opt_in"] is False
    assert not [r for r in watched.requests if r[0] == "PUT"]


def test_confirming_turns_it_on_for_real_and_off_deletes_what_was_kept(
        watched, page_api, training_s3):
    page = watched.page
    sign_in(page, page_api)
    switch = page.get_by_role(**SWITCH)
    # When the person turns the switch on and confirms
    switch.click()
    page.get_by_role("button", name="Turn on").click()
    # Then it is on, in the page and in the API, and says by which key
    expect(switch).to_have_attribute("aria-checked", "true")
    assert server_account(page_api)["training_opt_in"] is True
    # And a reload (the key is still in this tab) shows it on, read from the API
    page.reload()
    expect(page.get_by_role(**SWITCH)).to_have_attribute("aria-checked", "true")
    expect(page.locator("#training-changed")).to_contain_text(visible_prefix(API_KEY))
    # Given a request made while it is on, which the training store keeps
    assert_png_with_alpha(try_it(watched, PHOTO))
    kept = kept_for_training(training_s3)
    assert len(kept) >= 2  # the image and its mask
    # When the person turns it off
    page.get_by_role(**SWITCH).click()
    # Then it is off, the page says how many objects were deleted, and the store is empty
    expect(page.get_by_role(**SWITCH)).to_have_attribute("aria-checked", "false")
    expect(page.locator("#training-message")).to_contain_text(
        f"{len(kept)} objects kept for training were deleted")
    assert kept_for_training(training_s3) == []
    assert server_account(page_api)["training_opt_in"] is False


# --- where your images go ------------------------------------------------------------------
def test_the_privacy_answers_are_the_servers_own(watched, page_api):
    page = watched.page
    sign_in(page, page_api)
    answers = page.locator("#privacy-answers dd")
    expect(answers).to_have_count(7)
    # Then the page shows exactly the server's answers, which follow its settings
    server = server_privacy(page_api)
    assert answers.all_inner_texts() == [a["answer"] for a in server["answers"]]
    assert page.locator("#privacy-answers dt").all_inner_texts() == [
        a["question"] for a in server["answers"]]
    assert server["facts"]["sweep_interval_minutes"] == 15
    assert server["facts"]["result_url_ttl_seconds"] == 240
    retention = page.locator("#privacy-answers dd[data-topic=retention]")
    expect(retention).to_contain_text("runs every 15 minutes")
    expect(retention).to_contain_text("240 s (result)")


# --- try it --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def over_inline_limit(tmp_path_factory: pytest.TempPathFactory, page_api: LocalApi) -> Path:
    """A noisy PNG just over what a request carries inline, so it must take the upload."""
    limit = server_privacy(page_api)["facts"]["inline_limit_bytes"]
    pixels = np.random.default_rng(11).integers(0, 256, size=(1400, 1600, 3), dtype=np.uint8)
    pixels[400:1000, 500:1100] = (250, 200, 0)  # a subject in the middle
    path = tmp_path_factory.mktemp("big") / "over-inline.png"
    Image.fromarray(pixels).save(path, "PNG", compress_level=1)
    assert path.stat().st_size > limit
    return path


def test_try_it_makes_a_cutout_inline_and_through_the_signed_upload(
        watched, page_api, over_inline_limit):
    page = watched.page
    sign_in(page, page_api)
    before = server_account(page_api)["usage"]["requests"]
    # When a small photo is tried, Then the cutout is a PNG with transparency
    assert_png_with_alpha(try_it(watched, PHOTO))
    expect(page.locator("#try-original")).to_be_visible()
    # When an image over the inline limit is tried
    result = try_it(watched, over_inline_limit)
    # Then it went up by the signed PUT to storage, and the cutout came back by signed GET
    assert_png_with_alpha(result)
    moto = page_api.moto_endpoint
    assert [m for m, url in watched.requests if m == "PUT" and url.startswith(moto)]
    assert [m for m, url in watched.requests if m == "GET" and url.startswith(moto)]
    # And this month's usage on the page counts both requests
    expect(page.locator("#usage-summary")).to_contain_text(f"{before + 2} requests")


def test_an_api_error_is_shown_with_its_message(watched, page_api, tmp_path):
    page = watched.page
    watched.allow_refused_loads = True
    sign_in(page, page_api)
    # When a file that is no image is tried
    bogus = tmp_path / "not-an-image.png"
    bogus.write_bytes(b"this is text, not a PNG")
    page.get_by_label("Image (JPEG, PNG or WebP)").set_input_files(str(bogus))
    page.get_by_role("button", name="Remove the background").click()
    # Then the API's own sentence is shown
    expect(page.locator("#try-error")).to_contain_text("image", timeout=60_000)


# --- signing in ----------------------------------------------------------------------------
def test_a_wrong_key_gets_a_clear_sentence_and_nothing_is_kept(watched, page_api):
    page = watched.page
    watched.allow_refused_loads = True  # the browser logs the refused /v1/account itself
    # When someone signs in with a key that does not exist
    page.goto(f"{page_api.base_url}/account")
    page.get_by_label("API key").fill("co_live_this-key-was-never-issued-to-anyone")
    page.get_by_role("button", name="Sign in").click()
    # Then a sentence says so, nothing of the account shows, and the key is not kept
    expect(page.get_by_role("alert").first).to_contain_text("not accepted")
    expect(page.get_by_role(**SWITCH)).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_key_lives_in_the_tab_only_and_forget_key_drops_it(watched, page_api):
    page = watched.page
    sign_in(page, page_api)
    # Then the key is in this tab's sessionStorage only, and went out only as x-api-key
    assert page.evaluate("Object.values(sessionStorage)") == [API_KEY]
    # When the person forgets the key
    page.get_by_role("button", name="Forget key").click()
    # Then it is gone, and the sign-in form is back
    assert page.evaluate("sessionStorage.length") == 0
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role(**SWITCH)).to_be_hidden()


def test_a_key_revoked_mid_session_signs_the_tab_out_without_a_reload(watched, page_api):
    import json

    from e2e_local_api import cutout_console_script

    # Given a second key of the demo account, made and later revoked with the admin CLI
    admin = ["--endpoint-url", page_api.moto_endpoint, "--table", "cutout-local-accounts",
             "--region", "us-east-1"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
           "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}

    def run(*command: str) -> dict:
        done = subprocess.run([cutout_console_script(), *command, *admin], capture_output=True,
                              text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    key = run("keys", "create", "--account", DEMO_ACCOUNT, "--label", "revoked-in-e2e")["key"]
    page = watched.page
    watched.allow_refused_loads = True  # the browser logs the refused request itself
    sign_in(page, page_api, key["api_key"])
    # When the key is revoked while the tab is signed in, and the person uses the page
    run("keys", "revoke", "--account", DEMO_ACCOUNT, key["key_prefix"])
    page.get_by_role(**SWITCH).click()
    page.get_by_role("button", name="Turn on").click()
    # Then the tab forgets the key and is back at sign-in, saying the key was revoked
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role(**SWITCH)).to_be_hidden()
    expect(page.locator("#sign-in-error")).to_contain_text("revoked")
    assert page.evaluate("sessionStorage.length") == 0


# --- security and accessibility of the page itself ------------------------------------------
def test_the_page_is_served_with_its_security_headers(page_api):
    # When the page is fetched
    answer = requests.get(f"{page_api.base_url}/account", timeout=30)
    # Then it is locked down: own origin only (plus moto for the signed links), no framing
    csp = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert f"connect-src 'self' {page_api.moto_endpoint}" in csp
    assert "unsafe-inline" not in csp and "*" not in csp
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in answer.headers


def test_axe_finds_no_serious_or_critical_violation(watched, page_api):
    page = watched.page
    source = axe_source()

    def violations() -> list[dict]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        found = page.evaluate("""async () => (await axe.run(document)).violations
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))""")
        return [v for v in found if v["impact"] in ("serious", "critical")]

    # Given the sign-in form, the signed-in page and the confirmation dialog
    page.goto(f"{page_api.base_url}/account")
    assert violations() == []
    sign_in(page, page_api)
    expect(page.locator("#privacy-answers dd")).to_have_count(7)
    assert violations() == []
    page.get_by_role(**SWITCH).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert violations() == []
    page.get_by_role("button", name="Cancel").click()


# --- the same answers on the command line, and the page's address in the banner -----------
def test_cutout_serve_prints_the_pages_address(page_api):
    # Then the banner that `cutout serve` printed names the page
    assert f"account page: {page_api.base_url}/account" in page_api.log()


def test_cutout_privacy_prints_the_servers_answers(page_api):
    # When a reviewer runs `cutout privacy` against the running stack
    from e2e_local_api import cutout_console_script

    printed = subprocess.run(
        [cutout_console_script(), "privacy", "--url", page_api.base_url],
        env={**os.environ, "CUTOUT_API_KEY": API_KEY}, capture_output=True, text=True,
        timeout=60, check=True).stdout
    # Then every question and every answer of the API is printed (answers wrapped)
    flat = " ".join(printed.split())
    for answer in server_privacy(page_api)["answers"]:
        assert answer["question"] in printed
        assert " ".join(answer["answer"].split()) in flat
    assert "sweep_interval_minutes: 15" in printed
    assert API_KEY not in printed


def test_cutout_privacy_says_why_a_wrong_key_gets_nothing(page_api):
    from e2e_local_api import cutout_console_script

    finished = subprocess.run(
        [cutout_console_script(), "privacy", "--url", page_api.base_url, "--key",
         "co_live_this-key-was-never-issued-to-anyone"],
        capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert "the API answered 403" in finished.stderr


def test_the_local_bucket_admits_only_the_pages_own_origin(page_api):
    # Given a signed upload link of the running stack
    upload = requests.post(f"{page_api.base_url}/v1/uploads",
                           headers={"x-api-key": API_KEY}, timeout=30).json()

    def preflight(origin: str) -> str | None:
        answer = requests.options(upload["upload_url"], timeout=30, headers={
            "Origin": origin, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": ",".join(upload["headers"])})
        return answer.headers.get("Access-Control-Allow-Origin")

    # When the page's origin and another loopback origin preflight the signed PUT
    # Then only the page's own origin is admitted
    assert preflight(page_api.base_url) == page_api.base_url
    assert preflight(f"http://127.0.0.1:{page_api.moto_port}") is None
    assert preflight("http://evil.example") is None
