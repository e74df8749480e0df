"""The README's first command as a newcomer meets it, after ``pip install .`` in a fresh venv.

Runs the installed ``mlflow-launcher`` (not the checkout: the working directory is a temp
folder, so only what the wheel ships is there) on a first run, with nothing configured, twice:
under Xvfb with a tray host (the tray comes up, the embedded ``Local`` project opens in the
"browser", a script that records the URL, and answers /health) and with no display at all (it
serves ``Local`` in the foreground and prints the URL). Each time SIGTERM leaves no process.
Exits non-zero with the reason otherwise. Used by .ci/run; needs Xvfb, trayer and xwininfo.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

# The tests' throwaway X display, by path: this runs outside the checkout's packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "app"))
import xsession


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise SystemExit(f"first run: timed out waiting for {what}")


def healthy(url: str) -> bool:
    """/health of the server a link points at (the link's key and route left out)."""
    parts = urllib.parse.urlsplit(url)
    health = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    try:
        with urllib.request.urlopen(health.rstrip("/") + "/health", timeout=5) as r:
            return r.read().strip() == b"OK"
    except OSError:
        return False


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_clean(proc: subprocess.Popen, what: str) -> None:  # type: ignore[type-arg]
    """SIGTERM, as the session's end sends it: exit 0 and the whole process tree gone."""
    pids = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    if len(pids) < 2:
        raise SystemExit(f"first run: {what}: no server process under the launcher")
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    left = [p for p in pids if running(p)]
    if code != 0 or left:
        raise SystemExit(f"first run: {what}: SIGTERM gave exit {code}, left {left}")


def with_desktop(exe: str, work: Path) -> str:
    home, opened = work / "desktop", work / "opened.txt"
    browser = work / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    log = home / "logs" / "launcher.log"
    with xsession.XSession(tray=True) as x:
        env = {**x.env, "MLFLOW_LAUNCHER_HOME": str(home), "BROWSER": str(browser)}
        env.pop("PYTHONPATH", None)
        tray = subprocess.Popen([exe], env=env, cwd=work)
        try:
            wait_for(lambda: log.exists() and "tray shown" in log.read_text(), 60, "the tray")
            subprocess.run([exe, "open", "Local"], env=env, cwd=work, check=True, timeout=60)
            wait_for(lambda: opened.exists() and opened.read_text().strip(), 180, "the browser")
            url = opened.read_text().split()[0]
            if not healthy(url):
                raise SystemExit("first run: the tray's Local does not answer /health")
            stop_clean(tray, "the tray")
        finally:
            if tray.poll() is None:
                tray.kill()
                tray.wait()
    return url


def without_desktop(exe: str, work: Path) -> str:
    """No DISPLAY, no WAYLAND_DISPLAY: the same command serves Local in the foreground."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("PYTHONPATH", None)
    env["MLFLOW_LAUNCHER_HOME"] = str(work / "headless")
    proc = subprocess.Popen([exe], env=env, cwd=work, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:") or not healthy(url):
            raise SystemExit(f"first run: without a desktop, no served URL (got {url[:40]!r})")
        stop_clean(proc, "without a desktop")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return url


def main() -> int:
    exe = shutil.which("mlflow-launcher")
    if exe is None:
        raise SystemExit("first run: mlflow-launcher is not on PATH after pip install .")
    work = Path(tempfile.mkdtemp(prefix="first-run-"))
    for face, run in (("with a desktop", with_desktop), ("without a desktop", without_desktop)):
        started = time.monotonic()
        url = run(exe, work)
        server = urllib.parse.urlsplit(url).netloc
        print(f"first run {face}: Local served at {server}, stopped clean "
              f"({time.monotonic() - started:.0f} s)")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.pop("QT_QPA_PLATFORM", None)
    sys.exit(main())
