"""Smoke-test the built Windows onedir bundle under Wine on a virtual screen (run on Linux).

    python build/check_windows.py build/dist/windows/MLflowLauncher \\
        [--screenshot docs/windows-tray.png] [--json OUT.json]

Never trusts a Wine exit code: every check reads something the app itself wrote (its output, its
log files, its config) or asks the server over HTTP, and looks for leftover processes itself.

1. PE checks (build/check_exe.py): MLflowLauncher.exe is GUI x86-64 and MLflowLauncher-cli.exe a
   console x86-64 exe, both with every image of assets/launcher.ico and launcher.__version__.
2. The command line and the server flag: a folder store made here with this Python's MLflow is
   added by its Z:\\ path (`MLflowLauncher-cli.exe add`), then `serve NAME --no-browser`; the URL is
   taken from the CLI's stdout, else from the server log ("=== ready at ..."). /health must be OK,
   / the UI, the experiments API must list the store's experiments, and an MLflow client on Linux
   logs params, metrics, an artifact and a registered model through it. Stopped with Ctrl-C
   (SIGINT, which Wine turns into CTRL_C_EVENT): the port closes and no process of ours is left.
   Served a second time, the CLI is SIGKILLed: its server must go too (Job Object / lifeline pipe).
   Whether the windowed exe's own stdout reaches a pipe is recorded (not required).
3. The tray: MLflowLauncher.exe with no arguments; its log must say it came up on Qt's `windows`
   platform with a tray icon; Wine's system tray window must exist. The icon is right-clicked to
   open the menu, a screenshot is saved, then the menu's Quit is chosen: the log must say the tray
   exited, and no process of ours is left (else it is killed, and the check fails).
4. Last, `wineserver -w` must return within a minute: every process of the Wine prefix ended.

Exits 0 only when every check passed; prints one PASS/FAIL line per check and the timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "build"))
from check_bundle import CLIENT, NAMES, make_store  # noqa: E402

WINE_CACHE = Path(os.environ.get("WINE_CACHE", "/work/wine"))
GUI, CLI = "MLflowLauncher.exe", "MLflowLauncher-cli.exe"
TRAY_RE = re.compile(r"platform (\S+); tray shown \(([^)]*)\) t=([0-9.]+)")
EXE_RE = re.compile(r"mlflowlauncher(-cli)?\.exe", re.IGNORECASE)
READY_RE = re.compile(r"=== ready at (http://\S+?)/? after")


class Checks:
    def __init__(self) -> None:
        self.results: list[tuple[bool, str]] = []
        self.numbers: dict[str, object] = {}

    def report(self, passed: bool, what: str) -> bool:
        self.results.append((passed, what))
        print(f"{'PASS' if passed else 'FAIL'}  {what}", flush=True)
        return passed

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(p for p, _ in self.results)


def winpath(path: Path) -> str:
    return "Z:" + str(path.resolve()).replace("/", "\\")


def fetch(url: str, timeout: float = 10, key: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode("utf-8", "replace")


def split_key(line: str) -> tuple[str, str | None]:
    """A printed URL as (server root, access key)."""
    parts = urllib.parse.urlsplit(line)
    key = urllib.parse.parse_qs(parts.query).get("launcher_key", [None])[0]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), key


def running_key(home: Path) -> str | None:
    """The running server's key from the launcher's user-only file (launcher/server/access_key)."""
    for path in sorted((home / "data" / "running").glob("*.json")):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            key = json.loads(path.read_text("utf-8")).get("key")
            if key:
                return str(key)
    return None


def healthy(url: str) -> bool:
    try:
        return fetch(url + "health", 2).strip() == "OK"
    except OSError:
        return False


def ours(bundle: Path) -> list[psutil.Process]:
    """Processes running an exe of this bundle (Wine shows them by their Windows command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "name"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["name"] or "")
        except psutil.Error:
            continue
        if EXE_RE.search(text) and proc.pid != os.getpid():
            found.append(proc)
    return found


def cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def wait_gone(bundle: Path, seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while True:
        left = []
        for p in ours(bundle):
            with contextlib.suppress(psutil.Error):
                if p.status() != psutil.STATUS_ZOMBIE:
                    left.append(p)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


class Output:
    """A process's merged stdout/stderr, read by a thread (a Windows Python needs a pipe)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


class Session:
    """A virtual screen and the Wine environment every exe of the check runs in."""

    def __init__(
        self, bundle: Path, root: Path, prefix: Path | None = None, log_dir: Path | None = None
    ) -> None:
        """``prefix``: another Wine prefix than the build's; with ``log_dir`` (where the app then
        logs, a Unix path), the app runs with its default folders, not a MLFLOW_LAUNCHER_HOME."""
        self.bundle = bundle
        self.root = root
        self.home = root / "home"
        self.log_dir = log_dir or self.home / "logs"
        read_fd, write_fd = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten",
             "tcp"],
            pass_fds=[write_fd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd) as fh:
            self.display = ":" + fh.readline().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "PYTHON", "QT_"))}
        env.update(
            WINEPREFIX=str(prefix or WINE_CACHE / "prefix"),
            WINEARCH="win64",
            WINEDEBUG=os.environ.get("WINEDEBUG", "-all"),
            # winemenubuilder would copy every shortcut into this machine's own desktop menus
            WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe=d",
            DISPLAY=self.display,
            MLFLOW_LAUNCHER_HOME=winpath(self.home),
            BROWSER="none",
        )
        if log_dir is not None:
            del env["MLFLOW_LAUNCHER_HOME"]
        self.env = env

    def popen(self, exe: str, *args: str) -> tuple[subprocess.Popen[bytes], Output]:
        proc = subprocess.Popen(
            ["nice", "-n", os.environ.get("NICE", "10"), "wine", str(self.bundle / exe), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        return proc, Output(proc)

    def run(self, exe: str, *args: str, timeout: float = 120) -> str:
        proc, out = self.popen(exe, *args)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        time.sleep(0.2)
        return out.text()

    def x(self, *cmd: str) -> str:
        return subprocess.run(
            cmd, env={**os.environ, "DISPLAY": self.display}, capture_output=True, text=True,
            timeout=30, check=False,
        ).stdout  # fmt: skip

    def wine_idle(self, seconds: float = 60) -> bool:
        """True once every process of the Wine prefix has ended (`wineserver -w` returned)."""
        try:
            subprocess.run(["wineserver", "-w"], env=self.env, check=False, timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env, check=False, timeout=30)
        self.xvfb.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.xvfb.wait(10)


def wine_pid(proc: subprocess.Popen[bytes], exe: str, bundle: Path) -> int | None:
    """The Linux pid of the Windows process `proc` started (under nice and wine's loader)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for p in ours(bundle):
            cmd = cmdline(p)
            if exe.lower() in cmd.lower() and "--serve-child" not in cmd:
                return p.pid
        time.sleep(0.2)
    return None


def read_user_reg(prefix: Path) -> dict[str, dict[str, str]]:
    """HKCU as Wine saved it: {key path: {value name: value}} (strings unescaped, dwords as
    ``dword:...``). Current once the wineserver has exited (`wineserver -w`)."""
    keys: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in (prefix / "user.reg").read_text("utf-8", "replace").splitlines():
        if line.startswith("["):
            name = line[1 : line.rindex("]")].replace("\\\\", "\\")
            current = keys.setdefault(name.lower(), {})
        elif current is not None and line.startswith('"'):
            m = re.match(r'"((?:[^"\\]|\\.)*)"=(.*)$', line)
            if m:
                value = m.group(2)
                if value.startswith('"'):
                    value = re.sub(r"\\(.)", r"\1", value[1:-1])
                current[re.sub(r"\\(.)", r"\1", m.group(1))] = value
    return keys


def server_log_url(log_dir: Path) -> str | None:
    for log in sorted((log_dir / "servers").glob("*.log")):
        found = READY_RE.findall(log.read_text("utf-8", "replace"))
        if found:
            return found[-1] + "/"
    return None


def serve(session: Session, checks: Checks, name: str, stop: str) -> None:
    """`serve NAME --no-browser`, check it, then stop it with `stop` (sigint | sigkill)."""
    bundle = session.bundle
    for log in (session.log_dir / "servers").glob("*.log"):
        log.unlink()
    start = time.perf_counter()
    proc, out = session.popen(CLI, "serve", name, "--no-browser")
    url = via = None
    while time.perf_counter() - start < 240:
        stdout_url = next((ln.strip() for ln in out.lines if ln.startswith("http://")), None)
        if stdout_url:
            url, via = stdout_url, "stdout"
            break
        log_url = server_log_url(session.log_dir)
        if log_url and healthy(log_url):
            url, via = log_url, "server log"
            break
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    tag = f"serve ({stop})"
    if not checks.report(url is not None, f"{tag}: URL {url} from {via} after {elapsed:.1f} s"):
        print(out.text()[-4000:], file=sys.stderr)
        proc.kill()
        return
    assert url is not None
    url, key = split_key(url)
    deadline = time.monotonic() + 10  # the key file is written just after the "ready" line
    while key is None and time.monotonic() < deadline:
        key = running_key(session.home)
        time.sleep(0 if key else 0.2)
    checks.report(key is not None, f"{tag}: the server has an access key")
    checks.numbers[f"serve_{stop}_seconds"] = round(elapsed, 1)
    checks.numbers[f"serve_{stop}_url_via"] = via
    checks.report(healthy(url), f"{tag}: /health OK")
    if stop == "sigint":
        checks.report("<html" in fetch(url, key=key).lower(), f"{tag}: / returns the UI")
        listed = fetch(url + "ajax-api/2.0/mlflow/experiments/search?max_results=100", key=key)
        checks.report(all(n in listed for n in NAMES), f"{tag}: experiments API lists {NAMES}")
        client = subprocess.run(
            [sys.executable, "-c", CLIENT, url],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "MLFLOW_TRACKING_TOKEN": key or ""},
        )
        checks.report(
            client.returncode == 0 and "client ok" in client.stdout,
            f"{tag}: a Linux MLflow client logged params, metrics, an artifact and a model",
        )
        if client.returncode != 0:
            print(client.stderr[-3000:], file=sys.stderr)
    server_pids = [p.pid for p in ours(bundle) if "--serve-child" in cmdline(p)]
    checks.report(len(server_pids) == 1, f"{tag}: one server process ({server_pids})")
    cli_pid = wine_pid(proc, CLI, bundle)
    checks.report(cli_pid is not None, f"{tag}: the CLI's Wine process found ({cli_pid})")
    if cli_pid is not None:
        os.kill(cli_pid, signal.SIGINT if stop == "sigint" else signal.SIGKILL)
    t0 = time.perf_counter()
    left = wait_gone(bundle, 40)
    checks.report(
        not left,
        f"{tag}: nothing of ours left {time.perf_counter() - t0:.1f} s after "
        f"{'Ctrl-C' if stop == 'sigint' else 'SIGKILL of the CLI'}"
        + (f" (left: {[p.pid for p in left]})" if left else ""),
    )
    checks.report(not healthy(url), f"{tag}: the server no longer answers")
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(15)
    text = out.text()
    if stop == "sigint":
        checks.report("Stopping" in text, f"{tag}: the CLI said it was stopping (graceful)")
    checks.report("job object" not in text.lower(), f"{tag}: no Job Object warning")
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()


def cli_checks(session: Session, checks: Checks) -> None:
    store = make_store("folder", session.root / "store")
    out = session.run(CLI, "add", "wfolder", winpath(store))
    config = session.home / "config" / "config.json"
    checks.report(
        "Added 'wfolder'" in out and config.is_file() and "wfolder" in config.read_text("utf-8"),
        f"cli: `add wfolder {winpath(store)}` printed and saved the project",
    )
    listed = session.run(CLI, "list")
    checks.report("wfolder" in listed, "cli: `list` shows it (console twin's stdout)")
    gui_listed = session.run(GUI, "list")
    works = "wfolder" in gui_listed
    checks.numbers["windowed_exe_stdout_to_pipe"] = works
    print(f"INFO  the windowed exe's stdout {'reaches' if works else 'does not reach'} a pipe")
    left = wait_gone(session.bundle, 20)
    checks.report(not left, "cli: no process left after add/list")
    serve(session, checks, "wfolder", "sigint")
    serve(session, checks, "wfolder", "sigkill")


def visible_windows(session: Session) -> list[tuple[str, int, int, int, int]]:
    """(name, x, y, w, h) of every mapped window (xwininfo's tree; no window manager here)."""
    wins = []
    for line in session.x("xwininfo", "-root", "-tree").splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) (".*?"|\(has no name\)).*?(\d+)x(\d+)\+-?\d+\+-?\d+\s+'
                     r"\+(-?\d+)\+(-?\d+)", line)  # fmt: skip
        if not m:
            continue
        wid, name, w, h, x, y = m.groups()
        attrs = session.x("xwininfo", "-id", wid)
        if "IsViewable" in attrs and int(w) > 1 and int(h) > 1:
            wins.append((name.strip('"'), int(x), int(y), int(w), int(h)))
    return wins


def tray_checks(session: Session, checks: Checks, screenshot: Path | None) -> None:
    log = session.home / "logs" / "launcher.log"
    before = log.read_text("utf-8", "replace") if log.exists() else ""
    start = time.time()
    proc, out = session.popen(GUI)
    found = None
    while time.time() - start < 180 and found is None:
        text = log.read_text("utf-8", "replace")[len(before) :] if log.exists() else ""
        found = TRAY_RE.search(text)
        if found is None:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    detected = time.time() - start
    if not checks.report(found is not None, "tray: the app log says `tray shown`"):
        print(out.text()[-3000:], file=sys.stderr)
        proc.kill()
        return
    assert found is not None
    platform, where, shown_at = found.group(1), found.group(2), float(found.group(3))
    checks.numbers["tray_shown_seconds"] = round(shown_at - start, 1)
    print(f"INFO  tray shown {shown_at - start:.1f} s after start (in the log at {detected:.1f} s)")
    checks.report(platform == "windows", f"tray: Qt platform {platform!r} (want 'windows')")
    checks.report(where == "tray", f"tray: shown as {where!r} (want 'tray', not the fallback)")
    trays: list[tuple[str, int, int, int, int]] = []
    deadline = time.monotonic() + 30  # Wine's explorer.exe maps its tray window a bit later
    while not trays and time.monotonic() < deadline:
        time.sleep(1)
        trays = [w for w in visible_windows(session) if w[0] == "Wine System Tray"]
    checks.report(bool(trays), f"tray: Wine's system tray window is up {trays}")
    if trays:
        _name, x, y, w, h = trays[0]
        icon = min(w, h)
        session.x("xdotool", "mousemove", str(x + icon // 2), str(y + icon // 2))
        session.x("xdotool", "click", "3")
        time.sleep(2)
        menus = [w for w in visible_windows(session) if w[0] != "Wine System Tray" and w[3] > 40]
        checks.report(bool(menus), f"tray: right-click opened the menu {menus}")
        if screenshot is not None:
            take_screenshot(session, screenshot, [trays[0], *menus])
        if menus:
            _n, mx, my, mw, mh = max(menus, key=lambda m: m[3] * m[4])
            # Quit is the menu's last item.
            session.x("xdotool", "mousemove", str(mx + mw // 2), str(my + mh - 14))
            time.sleep(0.5)
            session.x("xdotool", "click", "1")
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(60)
    text = log.read_text("utf-8", "replace")[len(before) :]
    checks.report("tray exited with 0" in text, "tray: Quit from the menu; the log says it exited")
    left = wait_gone(session.bundle, 30)
    checks.report(not left, "tray: nothing of ours left" + (f" ({left})" if left else ""))
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(5)


def take_screenshot(session: Session, dest: Path, boxes: list[tuple]) -> None:
    """The part of the screen holding `boxes` (windows as (name, x, y, w, h)), with a margin."""
    x0 = max(0, min(b[1] for b in boxes) - 16)
    y0 = max(0, min(b[2] for b in boxes) - 16)
    x1 = max(b[1] + b[3] for b in boxes) + 16
    y1 = max(b[2] + b[4] for b in boxes) + 16
    dest.parent.mkdir(parents=True, exist_ok=True)
    crop = f"{x1 - x0}x{y1 - y0}+{x0}+{y0}"
    session.x("import", "-window", "root", "-crop", crop, "+repage", str(dest))
    print(f"INFO  screenshot {dest} ({crop})" if dest.exists() else "INFO  no screenshot")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path, help="the onedir folder holding MLflowLauncher.exe")
    ap.add_argument("--screenshot", type=Path, help="save the tray with its menu open here")
    ap.add_argument("--json", type=Path, help="write the checks and numbers here")
    ap.add_argument("--skip", choices=["cli", "tray"], action="append", default=[])
    args = ap.parse_args()
    bundle = args.bundle.resolve()
    checks = Checks()

    sys.path.insert(0, str(REPO))
    from check_exe import check  # type: ignore[import-not-found]

    from launcher import __version__

    ico = REPO / "assets" / "launcher.ico"
    for exe, subsystem in ((GUI, "gui"), (CLI, "console")):
        present = (bundle / exe).is_file()
        if checks.report(present, f"exe: {exe} exists"):
            checks.report(check(bundle / exe, ico, __version__, subsystem), f"exe: {exe} PE checks")
    files = [p for p in bundle.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    checks.numbers.update(bundle_mb=round(size / 1e6), bundle_files=len(files))
    print(f"INFO  bundle {size / 1e6:.0f} MB in {len(files)} files")
    if not checks.ok:
        return 1
    stray = ours(bundle)
    if not checks.report(not stray, f"no process of ours before the check ({stray})"):
        return 1

    with tempfile.TemporaryDirectory(prefix="windows-check-") as tmp:
        session = Session(bundle, Path(tmp))
        try:
            if "cli" not in args.skip:
                cli_checks(session, checks)
            if "tray" not in args.skip:
                tray_checks(session, checks, args.screenshot)
            checks.report(session.wine_idle(), "every Wine process of the prefix ended")
        finally:
            session.close()
            if not checks.ok:
                for log in sorted((Path(tmp) / "home" / "logs").rglob("*.log")):
                    print(f"--- {log}", file=sys.stderr)
                    print(log.read_text("utf-8", "replace")[-3000:], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"ok": checks.ok, **checks.numbers}, indent=2))
    print(json.dumps(checks.numbers))
    failed = [w for p, w in checks.results if not p]
    print(("OK" if checks.ok else f"FAILED ({len(failed)})") + f": {len(checks.results)} checks")
    return 0 if checks.ok else 1


if __name__ == "__main__":
    sys.exit(main())
