"""The web page in a real browser: Debian's chromium driven by Playwright, against `lore serve`.

The server is the real command (`lore serve` in a subprocess on 127.0.0.1)
over a copy of the kano backlog plus one hostile document. Expected values
come from the files' own front matter (read here with PyYAML), never from
lore's output. Screenshots at 1280 px and 390 px go to ``LORE_SCREENSHOT_DIR``
when set (the README's pictures are made that way), else to the test's temp dir.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = """---
id: EVIL-0001
type: Note
title: Hostile page
---
# Hostile page

<script>window.__pwned = "script";</script>

<img src="x" onerror="window.__pwned = 'onerror'">

![tracker](https://tracker.example.com/pixel.png) [bad](javascript:window.__pwned='link')
"""
TASK = "KABSD-TSK-0155"
# Read now: the autouse fixture in conftest clears every LORE_* variable for each test.
SCREENSHOT_DIR = os.environ.get("LORE_SCREENSHOT_DIR")     # a task with a parent, a blocker, two decisions and backlinks

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra: playwright")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (`apt-get install chromium`); "
                "the browser tests drive it through Playwright", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    return dict(yaml.safe_load(text.split("---", 2)[1]))


@pytest.fixture(scope="module")
def corpus(kano_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web") / "kano"
    shutil.copytree(kano_corpus, root)
    (root / "evil.md").write_text(HOSTILE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lore index` then `lore serve` on a free loopback port; yields the base URL."""
    env = {**os.environ, "LORE_HOME": str(tmp_path_factory.mktemp("home"))}
    config = Path(env["LORE_HOME"]) / "config.toml"
    config.write_text('[embed.primary]\nprovider = "hashing"\n')
    env["LORE_CONFIG"] = str(config)
    lore = [sys.executable, "-c", "from lore.cli import main; main()"]
    subprocess.run([*lore, "index", str(corpus)], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([*lore, "serve", str(corpus), "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"lore serve did not start: {proc.communicate()[0]!r}")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Any, server: str) -> Iterator[Any]:
    """A 1280 px page that records every request it makes."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    opened = context.new_page()
    opened.requests = []   # type: ignore[attr-defined]
    opened.on("request", lambda request: opened.requests.append(request.url))
    yield opened
    context.close()


def _search(page: Any, text: str) -> None:
    page.fill("#q", text)
    page.wait_for_selector(f"body[data-rendered-query={text!r}]")


def shot_dir(tmp_path: Path) -> Path:
    target = Path(SCREENSHOT_DIR or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_typing_a_query_shows_the_expected_first_hit(page: Any, corpus: Path) -> None:
    task = next(corpus.rglob(f"{TASK}_*.md"))
    title = _front_matter(task)["title"]
    page.goto("/")
    _search(page, title)
    first = page.locator(".hit").first
    assert first.locator(".hit-title").inner_text() == title
    assert TASK in first.inner_text()


def test_a_facet_filters_every_hit_and_the_url_round_trips(page: Any) -> None:
    page.goto("/")
    _search(page, "embedding")
    page.locator('#facets button[data-key="type"][data-value="Task"]').click()
    page.wait_for_selector('#facets button[data-key="type"][data-value="Task"][aria-pressed="true"]')
    page.wait_for_selector(".chip")
    hits = page.locator(".hit")
    assert hits.count() > 0
    for i in range(hits.count()):
        assert "Task" in hits.nth(i).locator(".badge").all_inner_texts()
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"q": ["embedding"], "f": ["type:Task"]}
    titles = page.locator(".hit-title").all_inner_texts()
    page.goto(page.url)           # a bookmarked result page shows the same results
    page.wait_for_selector("body[data-rendered-query='embedding']")
    assert page.locator(".hit-title").all_inner_texts() == titles
    assert page.input_value("#q") == "embedding"


def test_document_links_both_ways_and_the_link_picture(page: Any, corpus: Path) -> None:
    meta = _front_matter(next(corpus.rglob(f"{TASK}_*.md")))
    page.goto(f"/?doc={TASK}")
    page.wait_for_selector("#doc-graph svg")
    assert page.inner_text("#doc-title") == meta["title"]
    # The link picture holds an edge for every link the front matter declares.
    declared = {("parent", meta["parent"])}
    declared |= {("blocked_by", target) for target in meta["links"]["blocked_by"]}
    declared |= {("decision", target) for target in meta["decisions"]}
    labels = {page.get_attribute(f'#doc-graph g.node[data-path="{path}"]', "aria-label")
              for path in page.eval_on_selector_all(
                  "#doc-graph g.node", "nodes => nodes.map(n => n.dataset.path)")}
    for kind, target in declared:
        assert any(label and label.startswith(f"{target}:") for label in labels), (kind, target)
        assert page.locator(f'#doc-links [data-kind="{kind}"]').inner_text().count(target) >= 1
    # Follow the blocker, then a backlink of the blocker back to the task.
    blocker = meta["links"]["blocked_by"][0]
    page.locator('#doc-links [data-kind="blocked_by"] a').first.click()
    page.wait_for_selector(f"#doc-meta:has-text('{blocker}')")
    assert TASK in page.locator('#doc-links [data-kind="blocks"]').inner_text()
    page.locator('#doc-links [data-kind="blocks"] li', has_text=TASK).locator("a").click()
    page.wait_for_selector(f"#doc-meta:has-text('{TASK}')")
    # A backlink is a page whose text links to the task: check the file itself.
    backlink = page.locator('#doc-links [data-kind="backlink"] a').first
    source = backlink.get_attribute("data-doc")
    assert source and TASK in (corpus / source).read_text(encoding="utf-8")
    backlink.click()
    page.wait_for_selector(f"#doc-meta:has-text({source!r})")


def test_hostile_markdown_is_shown_not_run(page: Any) -> None:
    page.goto("/?doc=EVIL-0001")
    page.wait_for_selector("#doc-body h1")
    body = page.inner_text("#doc-body")
    assert '<script>window.__pwned = "script";</script>' in body
    assert "onerror" in body
    assert page.locator('#doc-body a[href^="javascript"]').count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("#doc-body img").count() == 0


def test_the_page_never_requests_another_origin(page: Any, server: str) -> None:
    page.goto("/?doc=EVIL-0001")
    page.wait_for_selector("#doc-body h1")
    _search(page, "sqlite")
    page.locator(".hit-title").first.click()
    page.wait_for_selector("#doc-graph svg, #doc-graph:has-text('No linked')")
    assert page.requests
    assert all(url.startswith((server, "data:")) for url in page.requests), \
        [url for url in page.requests if not url.startswith(server)]


def test_keyboard_slash_arrows_and_enter(page: Any) -> None:
    page.goto("/")
    page.locator("body").press("/")
    assert page.evaluate("() => document.activeElement.id") == "q"
    page.keyboard.type("worklog")
    page.wait_for_selector("body[data-rendered-query='worklog']")
    first_title = page.locator(".hit-title").first.inner_text()
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#hit-0", "aria-selected") == "true"
    page.locator("#hit-0").focus()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#doc-title")).to_have_text(first_title)


def test_screenshots_at_desktop_and_phone_width(browser: Any, server: str,
                                                tmp_path: Path) -> None:
    target = shot_dir(tmp_path)
    for width, height, name in ((1280, 860, "desktop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      base_url=server, device_scale_factor=1)
        page = context.new_page()
        page.goto("/")
        _search(page, "embedding provider")
        page.wait_for_selector("#facets .facet", state="attached")
        page.screenshot(path=str(target / f"web-search-{name}.png"))
        page.goto(f"/?doc={TASK}")
        page.wait_for_selector("#doc-graph svg")
        page.screenshot(path=str(target / f"web-document-{name}.png"))
        # Nothing may spill sideways on a phone.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        context.close()
    assert len(list(target.glob("web-*.png"))) >= 4
