"""Browser tests: Playwright for Python driving Debian's Chromium against a real `dailies serve` on 127.0.0.1.

search -> open a result -> the video plays from the shot's in-point -> keyboard (J/K/L, I/O) -> library;
a screenshot of every page goes to test-artifacts/ (git-ignored).
"""

import contextlib
import shutil
import socket
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,  # a real browser against a real server
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(web_library):
    from pipeline.config import load_settings
    from pipeline.web.app import create_app

    with serving(create_app(web_library, load_settings().replace("web", results=6))) as url:
        yield url


@contextlib.contextmanager
def serving(app):
    """Run `app` with uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = context.new_page()
        errors = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.errors = errors
        yield pg
        browser.close()
        assert errors == [], errors  # no script errors, no CSP violations


def wait_js(pg, expr, timeout=10.0):
    """Poll a JS expression through CDP (page.wait_for_function would eval in the page, which our CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not pg.evaluate(expr):
        assert time.monotonic() < deadline, f"timed out waiting for {expr}"
        time.sleep(0.05)


SHOTS: dict[str, str] = {}  # screenshot name -> the page (template) it shows, for this run


def shot(pg, name):
    """Screenshot the viewport (1280x800) into test-artifacts/NAME.png; the page must fit its width."""
    wide = pg.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert wide[0] <= wide[1], f"{name}: the page scrolls sideways at 1280x800 ({wide[0]} px wide)"
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    SHOTS[name] = pg.evaluate("document.body.dataset.page || ''") or name


def test_search_open_play_from_in_point_and_keys(server, page, web_library):
    page.goto(server + "/")
    assert page.locator(".card").count() == 6
    shot(page, "search-browse")

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.fill("#q", "two people talking at a table")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=*")
    assert page.locator(".banner.warn").is_visible() and "random-init" in page.locator(".banner.warn").inner_text()
    cards = page.locator(".card")
    assert cards.count() == 6
    shot(page, "search-results")

    # hover scrubbing walks through the shot's keyframes
    card = cards.nth(0)
    ids = card.get_attribute("data-kf").split(",")
    assert len(ids) >= 2
    box = card.locator(".thumb").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    first = card.locator(".thumb img").get_attribute("src")
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    last = card.locator(".thumb img").get_attribute("src")
    assert first == f"/media/keyframe/{ids[0]}" and last == f"/media/keyframe/{ids[-1]}"

    # keyboard: arrows move between results, Enter opens the shot
    page.mouse.move(0, 0)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    href = cards.nth(1).locator(".thumb").get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url("**" + href)
    shot_id = int(href.rsplit("/", 1)[1])
    start, end, start_tc, fps = (
        sqlite3.connect(web_library / "catalog.sqlite")
        .execute(
            "SELECT s.start_time, s.end_time, s.start_tc, c.fps"
            " FROM shots s JOIN clips c ON c.id = s.clip_id WHERE s.id = ?",
            (shot_id,),
        )
        .fetchone()
    )
    num, den = (int(x) for x in fps.split("/"))
    frame = den / num

    video = page.locator("video#player")
    wait_js(page, "document.getElementById('player').readyState >= 2")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {start}) < {frame}")
    try:  # the source timecode of the in-point (redrawn once the seek has settled)
        wait_js(page, f"document.getElementById('tc').textContent === {start_tc!r}", timeout=5)
    except AssertionError as exc:
        state = video.evaluate("v => [v.paused, v.currentTime, v.seeking, v.readyState]")
        raise AssertionError(
            f"TC {page.locator('#tc').inner_text()} != {start_tc} (video {state}, in-point {start})"
        ) from exc
    shot(page, "shot")

    page.keyboard.press("l")  # play
    wait_js(
        page,
        f"!document.getElementById('player').paused && document.getElementById('player').currentTime > {start + frame}",
    )
    t = video.evaluate("v => v.currentTime")
    assert start < t <= end + frame
    page.keyboard.press("k")  # stop
    assert video.evaluate("v => v.paused")
    t = video.evaluate("v => v.currentTime")
    page.keyboard.press("j")  # reverse: the playhead walks back
    wait_js(page, f"document.getElementById('player').currentTime < {t - frame}")
    assert page.locator("#rate").inner_text() == "−1×"
    page.keyboard.press("k")
    assert page.locator("#rate").inner_text() == ""
    page.keyboard.press("Home")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {start}) < {frame}")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("i")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {start + 2 * frame}) < {frame}")
    # the display is redrawn when the seek has finished ('seeked'); the mark is taken from the playhead at once
    wait_js(page, "document.getElementById('tc').textContent === document.getElementById('mark-in').textContent")
    assert page.locator("#mark-in").inner_text() != start_tc
    page.keyboard.press("End")
    page.keyboard.press("o")
    assert page.locator("#mark-out").inner_text() != page.locator("#mark-in").inner_text()

    # the filmstrip links every shot of the clip; the current one is marked
    assert page.locator(".filmstrip .frame.current").get_attribute("href") == href

    # tag the shot and circle the take
    page.keyboard.press("t")
    assert page.evaluate("document.activeElement.id") == "tag"
    page.keyboard.type("hero take")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#tags .tag.manual", has_text="hero take").is_visible()
    with page.expect_navigation():
        page.keyboard.press("c")
    wait_js(
        page, "document.getElementById('circle') && document.getElementById('circle').textContent.includes('Circled')"
    )
    shot(page, "shot-tagged")

    # export: search with the tag filter, download the EDL of the results
    page.goto(server + "/?" + urlencode({"q": "hero", "tag": "hero take"}))
    assert page.locator(".card").count() == 1 and page.locator(".card .circled").is_visible()
    with page.expect_download() as dl:
        page.locator(".exports a", has_text="EDL").click()
    edl = Path(dl.value.path()).read_text()
    assert dl.value.suggested_filename == "dailies-search.edl"
    assert start_tc in edl and "HERO TAKE" in edl.upper()

    # undo through the UI: remove the tag, uncircle
    page.goto(server + href)
    with page.expect_navigation():
        page.locator("#tags .tag.manual", has_text="hero take").locator("button.x").click()
    assert page.locator("#tags .tag", has_text="hero take").count() == 0
    with page.expect_navigation():
        page.locator("#circle").click()
    wait_js(
        page,
        "document.getElementById('circle') && document.getElementById('circle').textContent.includes('Circle') && "
        "!document.getElementById('circle').textContent.includes('Circled')",
    )
    page.keyboard.press("ArrowDown")
    page.wait_for_url(lambda url: not url.endswith(href))


def test_image_query_by_upload_and_more_like_this(server, page, web_library):
    page.goto(server + "/")
    thumb = (
        sqlite3.connect(web_library / "catalog.sqlite")
        .execute("SELECT thumb FROM keyframes ORDER BY id LIMIT 1")
        .fetchone()[0]
    )
    page.set_input_files("input[type=file]", str(web_library / thumb))
    page.wait_for_url("**/?image=*")
    assert page.locator("img.qimage").is_visible()
    assert page.locator(".card .score").first.inner_text() == "1.000"
    shot(page, "search-image")
    page.locator(".card .more").nth(1).click()
    page.wait_for_url("**/?like=*")
    assert page.locator(".card .score").first.inner_text() == "1.000"


def test_selects_page(server, page):
    page.goto(server + "/selects")
    assert page.locator(".setup").count() >= 1 and page.locator(".setup .factor").count() >= 1
    shot(page, "selects")
    with page.expect_navigation():
        page.locator(".setup tr").first.locator("button.pin").click()
    assert page.locator(".setup tr").first.locator("button.pin.on").count() == 1
    with page.expect_navigation():
        page.locator(".setup tr").first.locator("button.clear").click()
    assert page.locator("button.pin.on").count() == 0


def test_exports_page(server, page):
    page.goto(server + "/?" + urlencode({"q": "a wide shot", "clip": "C001"}))
    with page.expect_navigation():
        page.locator("a.allexports").click()
    assert page.locator(".tabs a.active").inner_text() == "Exports"
    assert (
        page.locator("#export-search .button").count() == 5 and "3 shots" in page.locator("#export-search").inner_text()
    )
    shot(page, "exports")
    with page.expect_download() as dl:
        page.locator("#export-search a", has_text="OTIO").click()
    assert dl.value.suggested_filename == "dailies-search.otio"
    assert Path(dl.value.path()).read_text().count('"OTIO_SCHEMA": "Clip.') == 3
    with page.expect_navigation():
        page.select_option("select[name=per_setup]", "3")
    assert "3 takes from 1 setup" in page.locator("#export-selects").inner_text()
    with page.expect_download() as dl:
        page.locator("#export-selects a", has_text="OTIO").click()
    assert dl.value.suggested_filename == "dailies-selects.otio"
    assert Path(dl.value.path()).read_text().count('"OTIO_SCHEMA": "Clip.') == 3


def test_library_page(server, page):
    page.goto(server + "/library")
    assert page.locator("table.clips tbody tr").count() == 4
    assert page.locator(".failures").is_visible()
    assert "onerror=alert(1)" in page.locator(".failures").inner_text()  # shown as text, never run
    shot(page, "library")
    with page.expect_navigation():
        page.locator("a", has_text="Morning report").click()
    assert page.locator("#report-missing").is_visible()  # not built yet: the page offers to build it (a POST)
    shot(page, "report-missing")
    with page.expect_navigation():
        page.locator("button", has_text="Build the report").click()
    assert page.locator("button", has_text="Rebuild").is_visible()
    assert page.locator("img").count() >= 1 and page.evaluate(
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    )
    shot(page, "report")
    page.goto(server + "/library")
    page.locator("table.clips a", has_text="A001C002.mov").click()
    page.wait_for_url("**/shot/*")
    page.keyboard.press("?")
    assert page.locator("dialog#help").is_visible()
    shot(page, "help")


def test_library_page_reloads_while_an_ingest_changes_the_catalog(page, web_library, tmp_path):
    from pipeline.catalog import open_catalog
    from pipeline.config import load_settings
    from pipeline.web.app import create_app

    lib = tmp_path / "lib"
    shutil.copytree(web_library, lib, symlinks=True)
    context = page.context.browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        pg = context.new_page()
        pg.clock.install()  # the page polls /api/library every 10 s: fast-forward instead of waiting
        with serving(create_app(lib, load_settings())) as url:
            pg.goto(url + "/library")
            assert pg.locator("table.clips tbody tr").count() == 4
            pg.evaluate("window.loadedOnce = true")  # gone when the page reloads
            pg.clock.run_for(10_500)  # one poll with nothing changed: no reload
            time.sleep(0.5)
            assert pg.evaluate("window.loadedOnce === true")
            cat = open_catalog(lib)  # an ingest discovers a new clip
            with cat.transaction():
                cat.upsert_clip(str(tmp_path / "A002C001.mov"))
            cat.close()
            with pg.expect_navigation():
                pg.clock.run_for(10_500)
            assert pg.evaluate("window.loadedOnce === undefined")
            assert pg.locator("table.clips tbody tr").count() == 5
            assert pg.locator("table.clips tr", has_text="A002C001.mov").locator(".badge.new").count() == 1
    finally:
        context.close()


def test_error_page(server, page):
    page.goto(server + "/shot/999999")
    assert page.locator("h1").inner_text() == "404" and "no shot 999999" in page.locator(".error-text").inner_text()
    shot(page, "error")
    # the browser logs the 404 of the page itself; nothing else may have gone wrong
    page.errors[:] = [e for e in page.errors if "status of 404" not in e]


def test_every_page_has_a_screenshot():
    """Runs last: every page template (and the morning report and the help dialog) was screenshotted."""
    if not SHOTS:
        pytest.skip("no browser test ran before this one (run the whole file: it checks their screenshots)")
    templates = Path(__file__).resolve().parents[1] / "pipeline" / "web" / "templates"
    pages = {t.stem for t in templates.glob("*.html") if not t.name.startswith("_") and t.name != "base.html"}
    assert pages >= {"search", "shot", "selects", "exports", "library", "error"}
    assert pages <= set(SHOTS.values()), f"pages without a screenshot this run: {pages - set(SHOTS.values())}"
    assert {"report", "help"} <= SHOTS.keys()
    for name in SHOTS:
        png = ARTIFACTS / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, png
