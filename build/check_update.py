"""The installer check's update step: the installed launcher upgrades itself from a feed.

Called by build/check_installer.py's upgrade step in place of running the new setup.exe by hand.
A folder feed (what a company without internet puts on a share) holds the higher version's
setup.exe and its SHA256SUMS, as `windows.sh package` writes them:

- `update --check --feed FOLDER` says the version is there (exit 3);
- `update --feed BAD` (a SHA256SUMS whose digest is wrong) is refused (exit 1), nothing runs,
  the installed version and the running tray stay;
- `update --feed FOLDER` downloads, checks the SHA-256, starts the installer's silent upgrade
  with /UPDATE=1, which asks the tray to quit, replaces the program and starts the new version.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from check_windows import CLI, TRAY_RE, Checks, Session, winpath

EXIT_NEWER = 3  # launcher/app/commands/update.py


def publish(folder: Path, setup: Path, *, wrong: bool = False) -> Path:
    """A folder feed holding ``setup`` and its SHA256SUMS (``wrong``: a digest that does not
    match, as a broken copy or a tampered feed would have)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(setup, folder / setup.name)
    digest = hashlib.sha256((folder / setup.name).read_bytes()).hexdigest()
    if wrong:
        digest = hashlib.sha256(digest.encode()).hexdigest()
    (folder / "SHA256SUMS").write_text(f"{digest}  {setup.name}\n", "utf-8")
    return folder


def cli(session: Session, *args: str, timeout: float = 600) -> tuple[int | None, str]:
    """The installed console exe's exit code and output."""
    proc, out = session.popen(CLI, *args)
    try:
        code: int | None = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        code = None
    time.sleep(0.2)
    return code, out.text()


def display_version(session: Session, key: str) -> str:
    """DisplayVersion of the uninstall entry, asked of the live registry."""
    proc = subprocess.run(["wine", "reg", "query", "HKCU\\" + key, "/v", "DisplayVersion"],
                          env=session.env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=60, check=False)  # fmt: skip
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if "DisplayVersion" in line:
            return line.split("REG_SZ", 1)[-1].strip()
    return ""


def update_from_feed(
    session: Session,
    checks: Checks,
    tray: Any,
    setup: Path,
    old_version: str,
    new_version: str,
    uninst_key: str,
    work: Path,
) -> bool:
    """The three runs above; True when the new version's tray is up (started by the installer)."""
    good = publish(work / "feed", setup)
    bad = publish(work / "bad-feed", setup, wrong=True)
    code, text = cli(session, "update", "--check", "--feed", winpath(good), timeout=180)
    found = code == EXIT_NEWER and f"{new_version} is available" in text
    checks.report(found, f"update: --check finds {new_version} in a folder feed (exit {code})")
    code, text = cli(session, "update", "--feed", winpath(bad), timeout=300)
    refused = code == 1 and "not the file the feed lists" in text
    if not checks.report(refused, f"update: a feed with a wrong SHA-256 is refused (exit {code})"):
        print(text[-2000:])
    kept = display_version(session, uninst_key) == old_version
    running = tray.proc is not None and tray.proc.poll() is None
    checks.report(kept and running, f"update: after the refusal {old_version} is still running")
    t0 = time.monotonic()
    code, text = cli(session, "update", "--feed", winpath(good), timeout=600)
    if not checks.report(code == 0 and "SHA-256 matches" in text,
                         f"update: {new_version} downloaded, checked and its installer started "
                         f"(exit {code}, {time.monotonic() - t0:.0f} s)"):  # fmt: skip
        print(text[-2000:])
        return False
    try:  # the old tray's own process: the new one may be up soon after, started by setup.exe
        quit_code = tray.proc.wait(300) if tray.proc is not None else None
    except subprocess.TimeoutExpired:
        quit_code = None
    checks.report(quit_code is not None, "update: the running tray quit for the installer")
    deadline = time.monotonic() + 300
    version = ""
    while time.monotonic() < deadline and version != new_version:
        time.sleep(2)
        version = display_version(session, uninst_key)
    checks.report(version == new_version, f"update: the uninstall entry says {version}")
    up = None
    while time.monotonic() < deadline and up is None:
        log = tray.log()
        ended = log.find("tray exited with 0")
        up = TRAY_RE.search(log, ended) if ended >= 0 else None
        if up is None:
            time.sleep(1)
    return checks.report(
        up is not None,
        f"update: the installer started the new version ({time.monotonic() - t0:.0f} s in all)",
    )
