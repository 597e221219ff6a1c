"""Open an HTML file in headless Chromium (Debian's chromium + chromedriver) through Selenium.

Used by the report's browser test: it loads the page offline, collects what the browser saw
(images and whether they decoded, console messages, network requests) and saves screenshots.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

REQUIRE_ENV = "THERMOGEN_REQUIRE_BROWSER"
"""Set to 1 (``.ci/run`` does) to fail, not skip, when no browser is installed."""
ARTIFACTS_ENV = "THERMOGEN_ARTIFACTS"
"""Folder for screenshots; default ``artifacts/`` at the repository root."""

# Flags for a closed network: without the background-networking ones Chromium keeps trying to
# reach Google's hosts, and each refused connection is logged.
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


@dataclass(frozen=True)
class PageVisit:
    """What Chromium saw on one page.

    Attributes
    ----------
    images
        One ``(loaded, natural_width, alt)`` per ``<img>``; ``loaded`` is True when the image
        finished loading and decoded to a non-empty bitmap.
    console
        Console messages as ``(level, message)``; level ``"SEVERE"`` marks errors.
    requests
        URLs of every resource the page fetched (empty for a self-contained page).
    height
        Height of the whole page in CSS pixels.
    """

    images: tuple[tuple[bool, int, str], ...]
    console: tuple[tuple[str, str], ...]
    requests: tuple[str, ...]
    height: int


def browser_paths() -> tuple[str, str] | None:
    """Paths of ``chromium`` and ``chromedriver``, or None when either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def artifacts_dir(repo_root: Path) -> Path:
    """The folder screenshots are written to (created)."""
    folder = Path(os.environ.get(ARTIFACTS_ENV, repo_root / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def visit(
    page: Path, profile: Path, screenshot_top: Path, screenshot_full: Path, width: int = 1280
) -> PageVisit:
    """Load ``page`` in headless Chromium, take screenshots and report what the browser saw.

    Parameters
    ----------
    page
        HTML file to open (as a ``file://`` URL).
    profile
        Empty folder for the browser profile.
    screenshot_top, screenshot_full
        PNG files for the first screen (``width`` x 900 px) and for the whole page.
    width
        Window width in CSS pixels.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    paths = browser_paths()
    if paths is None:
        raise RuntimeError("chromium and chromedriver are not installed")
    chromium, driver_path = paths
    options = Options()
    options.binary_location = chromium
    for flag in (*_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(page.resolve().as_uri())
        driver.execute_script("return document.fonts.ready")
        images = driver.execute_script(
            "return Array.from(document.images).map("
            "i => [i.complete && i.naturalWidth > 0, i.naturalWidth, i.alt])"
        )
        requests = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.save_screenshot(str(screenshot_top))
        driver.set_window_size(width, height)
        driver.save_screenshot(str(screenshot_full))
        console = [(entry["level"], entry["message"]) for entry in driver.get_log("browser")]
    finally:
        driver.quit()
    return PageVisit(
        tuple((bool(a), int(b), str(c)) for a, b, c in images),
        tuple(console),
        tuple(requests),
        height,
    )
