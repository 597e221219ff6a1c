"""The default demo's two reports in a real browser engine (headless Chromium).

Every embedded image must decode, the console must stay free of errors, the page must fetch
nothing (it opens offline), and screenshots of the first screen and the whole page are saved to
``artifacts/`` (or ``$THERMOGEN_ARTIFACTS``) for people to look at. Without Debian's ``chromium``
and ``chromedriver`` the test is skipped, unless ``THERMOGEN_REQUIRE_BROWSER=1`` (set by
``.ci/run``, which installs them) makes a missing browser a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .browser import REQUIRE_ENV, artifacts_dir, browser_paths, visit

REPO_ROOT = Path(__file__).resolve().parents[1]


REPORTS = {"demo_report": "report", "demo_melting_report": "melting"}
"""Screenshot stem -> which report of the demo: the diffusion run's and the LaTF run's."""


def report_of(demo, which: str) -> Path:
    return demo.report if which == "report" else demo.melting.report


@pytest.fixture(scope="module", params=sorted(REPORTS))
def demo_report_visit(request, default_demo, tmp_path_factory):
    if os.environ.get(REQUIRE_ENV) != "1":
        if browser_paths() is None:
            pytest.skip("no headless Chromium (Debian: apt-get install chromium chromium-driver)")
        pytest.importorskip("selenium")
    folder = artifacts_dir(REPO_ROOT)
    top, full = folder / f"{request.param}_top.png", folder / f"{request.param}_full.png"
    page = report_of(default_demo, REPORTS[request.param])
    result = visit(page, tmp_path_factory.mktemp("chromium_profile"), top, full)
    return page, result, top, full


def test_every_image_of_the_demo_reports_loads_in_chromium(demo_report_visit):
    page, result, _, _ = demo_report_visit
    embedded = page.read_text().count("<img ")
    assert len(result.images) == embedded >= 6
    broken = [alt for loaded, width, alt in result.images if not loaded or width < 300]
    assert not broken, f"images that did not load: {broken}"


def test_the_demo_reports_open_offline_without_console_errors(demo_report_visit):
    _, result, _, _ = demo_report_visit
    assert result.requests == (), "the report fetched resources; it must be self-contained"
    assert not [m for level, m in result.console if level == "SEVERE"], result.console


def test_screenshots_of_the_demo_reports_are_saved(demo_report_visit):
    _, result, top, full = demo_report_visit
    for path in (top, full):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
    assert result.height > 3000  # the whole report, not only the first screen
