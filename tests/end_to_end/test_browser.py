"""The pack in a real browser: headless Chromium, offline, driven over the DevTools protocol.

Each report and the index page are opened with the network emulated offline and every request
the page makes recorded. The test takes a screenshot, checks that the headline and every chart
rendered, that nothing overflows a phone-width screen, that the page prints to A4, that the
console shows no errors, and that no request left the machine. Chromium is driven through
``--remote-debugging-pipe`` (JSON messages on file descriptors 3 and 4) with the standard
library only. Skipped, with the reason, when Debian's ``chromium`` is not installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fixtures.small_pack import copy_fixture_notebooks

from analysis.pack import PackOptions, run_pack

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(.ci/run installs it with apt-get install chromium)",
    ),
]

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    # Belt and braces with the offline emulation: no name resolves, no proxy answers.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--remote-debugging-pipe",
)

DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
A4_INCHES = {"paperWidth": 8.27, "paperHeight": 11.69}

LOCAL_SCHEMES = ("file:", "data:", "about:")

PAGE_FACTS = """(() => {
  const headline = document.querySelector('.csc-headline');
  const outputs = '.jp-OutputArea-output img, .jp-OutputArea-output svg';
  const charts = [...document.querySelectorAll(outputs)];
  const drawn = charts.filter(e => e.getBoundingClientRect().width > 50
    && (e.tagName.toLowerCase() !== 'img' || (e.complete && e.naturalWidth > 0)));
  return {
    title: document.title,
    heading: (document.querySelector('h1.csc-title') || {}).innerText || '',
    headline: headline ? headline.innerText : '',
    headlineTop: headline ? headline.getBoundingClientRect().top + window.scrollY : null,
    charts: charts.length,
    chartsDrawn: drawn.length,
    scripts: document.scripts.length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    alerted: window.__alerted === true,
  };
})()"""


class Chromium:
    """Headless Chromium over the DevTools pipe: commands on fd 3, replies and events on fd 4."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # runs in the child, before exec
            commands = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            replies = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self.process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes,  # noqa: PLW1509 - the test starts no threads before this
            pass_fds=(3, 4),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._arrived:
                        self._replies[message["id"]] = message
                        self._arrived.notify_all()
                else:
                    self._events.put(message)

    def send(
        self, method: str, params: dict | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        with self._arrived:
            while self._next_id not in self._replies:
                if not self._arrived.wait(timeout=deadline - time.monotonic()):
                    raise TimeoutError(f"Chromium did not answer {method}")
            reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self) -> list[dict[str, Any]]:
        drained = []
        while not self._events.empty():
            drained.append(self._events.get())
        return drained

    def wait_for(self, method: str, session: str, timeout_s: float = 60) -> list[dict[str, Any]]:
        """Collect events until ``method`` arrives on ``session``; return all collected."""
        collected = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            collected.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return collected
        raise TimeoutError(f"no {method} within {timeout_s} s")

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)


def open_page(browser: Chromium, path: Path, screenshot: Path) -> dict[str, Any]:
    """Open ``path`` offline; return its facts, console errors, requests and printed size."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
        browser.send(domain, session=session)
    browser.send(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        session,
    )
    # A script injected into the report (it must not be) would set this flag.
    browser.send(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "window.alert = () => { window.__alerted = true; };"},
        session,
    )
    browser.send("Emulation.setDeviceMetricsOverride", DESKTOP, session)
    browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session)
    events = browser.wait_for("Page.loadEventFired", session)
    desktop = browser.send(
        "Runtime.evaluate", {"expression": PAGE_FACTS, "returnByValue": True}, session
    )["result"]["value"]
    shot = browser.send(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session
    )
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    browser.send("Emulation.setDeviceMetricsOverride", PHONE, session)
    phone = browser.send(
        "Runtime.evaluate", {"expression": PAGE_FACTS, "returnByValue": True}, session
    )["result"]["value"]
    pdf = browser.send("Page.printToPDF", {**A4_INCHES, "printBackground": True}, session)
    time.sleep(0.2)  # let late console messages arrive
    events += browser.events()
    browser.send("Target.closeTarget", {"targetId": target})
    mine = [e for e in events if e.get("sessionId") == session]
    errors = [
        e["params"]["entry"]["text"]
        for e in mine
        if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
    ]
    errors += [
        " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])
        for e in mine
        if e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
    ]
    errors += [
        e["params"]["exceptionDetails"].get("text", "exception")
        for e in mine
        if e["method"] == "Runtime.exceptionThrown"
    ]
    requests = [
        e["params"]["request"]["url"] for e in mine if e["method"] == "Network.requestWillBeSent"
    ]
    return {
        "desktop": desktop,
        "phone": phone,
        "errors": errors,
        "requests": requests,
        "pdf_bytes": len(base64.b64decode(pdf["data"])),
    }


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def fixture_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack of the fixture notebooks, whose headline carries <script> markup."""
    workspace = tmp_path_factory.mktemp("browser-pack")
    notebooks = copy_fixture_notebooks(workspace / "notebooks")
    options = PackOptions(reports_root=workspace / "reports", notebooks_folder=notebooks)
    return run_pack(pd.Period("2025-03", freq="M"), options, progress=lambda _line: None).folder


def check_offline_page(page: dict[str, Any], name: str) -> None:
    assert page["errors"] == [], f"{name}: console errors {page['errors']}"
    external = [url for url in page["requests"] if not url.startswith(LOCAL_SCHEMES)]
    assert external == [], f"{name}: requests to {external}"
    assert page["requests"], f"{name}: the page itself was not loaded"
    assert page["desktop"]["scripts"] == 0, f"{name}: the page has script elements"
    assert not page["desktop"]["alerted"], f"{name}: injected script ran"
    assert page["phone"]["overflow"] <= 1, f"{name}: wider than a phone screen"
    assert page["pdf_bytes"] > 1000, f"{name}: did not print to A4"


def check_report(page: dict[str, Any], name: str, screenshot: Path) -> None:
    check_offline_page(page, name)
    desktop = page["desktop"]
    assert desktop["heading"], f"{name}: no title"
    assert "March 2025" in desktop["title"]
    assert desktop["headline"].startswith("Headline"), f"{name}: no headline"
    assert desktop["headlineTop"] < 600, f"{name}: the headline is not at the top"
    assert desktop["chartsDrawn"] == desktop["charts"], f"{name}: a chart did not render"
    width, height = png_size(screenshot)
    assert width > DESKTOP["width"] - 40 and height > 600  # less a scroll bar, if any


def test_the_fixture_pack_renders_offline_with_markup_shown_as_text(
    browser: Chromium, fixture_pack: Path, tmp_path: Path
) -> None:
    for html in sorted(fixture_pack.glob("*.html")):
        screenshot = tmp_path / f"{html.stem}.png"
        page = open_page(browser, html, screenshot)
        if html.name == "index.html":
            check_offline_page(page, html.name)
            continue
        check_report(page, html.name, screenshot)
        if html.name == "01_summary.html":
            assert "<script>alert('title')</script>" in page["desktop"]["heading"]
            assert "<script>alert('summary')</script>" in page["desktop"]["headline"]
        if html.name == "02_chart.html":
            assert page["desktop"]["chartsDrawn"] == 1


@pytest.mark.slow
def test_every_report_of_the_real_pack_renders_offline(
    browser: Chromium, real_pack, tmp_path: Path
) -> None:
    folder = real_pack.folder
    index = open_page(browser, folder / "index.html", tmp_path / "index.png")
    check_offline_page(index, "index.html")
    for run in real_pack.notebooks:
        screenshot = tmp_path / f"{Path(run.html).stem}.png"
        page = open_page(browser, folder / run.html, screenshot)
        check_report(page, run.html, screenshot)
        assert page["desktop"]["charts"] >= 1, f"{run.html}: no charts"


def test_the_browser_checks_catch_an_external_request_and_a_console_error(
    browser: Chromium, tmp_path: Path
) -> None:
    # The checks above pass only if they can fail: a page that reaches out must be caught.
    page_path = tmp_path / "leaky.html"
    page_path.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>leaky</title></head><body>'
        '<img src="https://cdn.example.com/logo.png"><script>console.error("boom")</script>'
        "</body></html>",
        encoding="utf-8",
    )
    page = open_page(browser, page_path, tmp_path / "leaky.png")
    assert "https://cdn.example.com/logo.png" in page["requests"]
    assert any("boom" in error for error in page["errors"])
