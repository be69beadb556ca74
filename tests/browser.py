"""A real headless Chromium for the HTML page tests: find it, load a page, dump its DOM or
take a screenshot. Absent, the tests skip with the reason, except in CI
(`PUSHCAL_REQUIRE_BROWSER=1`, set by .ci/run), where a missing browser fails them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome")
# What works as root in a container, with nothing reaching the network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")
# For one-shot runs (--dump-dom, --screenshot): let the page's script finish before the dump.
SETTLE = "--virtual-time-budget=5000"


def browser() -> str:
    """The browser's path; skips (fails when PUSHCAL_REQUIRE_BROWSER is set) without one."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    reason = (f"no headless Chromium ({', '.join(NAMES)}) on PATH: "
              "`apt-get install -y chromium` to run the browser tests")
    if os.environ.get("PUSHCAL_REQUIRE_BROWSER"):
        pytest.fail(reason + " (PUSHCAL_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


def run(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The browser with a fresh profile under `profile`; fails on a non-zero exit."""
    done = subprocess.run([browser(), *FLAGS, SETTLE, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    return done


def dump_dom(page: Path, profile: Path, fragment: str = "") -> str:
    """The page's DOM after its script ran, as Chromium serializes it."""
    return run(profile, "--dump-dom", page.as_uri() + fragment).stdout


def screenshot(page: Path, profile: Path, out: Path, size: str = "1280,900", fragment: str = "") -> None:
    """A PNG of the page at a window size (`width,height`)."""
    run(profile, f"--window-size={size}", f"--screenshot={out}", page.as_uri() + fragment)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{out} is not a PNG"
