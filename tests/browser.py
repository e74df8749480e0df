"""Headless Chromium for the tests that need a real browser (cookies, redirects, the UI's JS).

Debian's chromium, with the flags this machine needs (no background networking: only loopback
answers here) and a fresh profile each time, so no cookie survives from one test to the next.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def dom_of(url: str, *, budget_ms: int = 30_000) -> str:
    """The page's DOM once its scripts ran for ``budget_ms`` of virtual time (skips the test
    where Chromium is not installed)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}", "--dump-dom", url,
            ],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    return result.stdout
