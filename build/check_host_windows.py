"""The installer check's warm-host step (issues 17 and 22, Windows side), run under Wine.

The installed tray keeps a warm host (``launcher/server/warm/host_pool.py``): a server process
with MLflow imported that serves every project of its Python environment, started through
``spawn.spawn`` into the launcher's Job Object (KILL_ON_JOB_CLOSE), importing in a thread at
THREAD_PRIORITY_BELOW_NORMAL (``launcher/server/child/warm_up.py``). This step proves, with the
UNC projects of the step before:

1. with keep_warm on, the tray starts a host and logs it warm;
2. while it imports, a thread of the host runs below normal priority (asked of Windows itself:
   a Windows Python reads Toolhelp snapshots and GetThreadPriority; psutil cannot see that);
3. ``open NAME`` of two projects on the share is served by that host (their server logs say
   so): one process, two ports, each answering HTTP with its own store's experiments;
4. the tray killed hard (``taskkill /F``, TerminateProcess) leaves no host and no server.

Imported by build/check_installer.py (``host_checks``); Windows pids come from the app log and
the Windows side, Linux processes from ``ours()``.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from check_windows import CLI, WINE_CACHE, Checks, Output, fetch, healthy, wait_gone, winpath

STARTED_RE = re.compile(r"started a host \(pid (\d+), warm for a click")
WARM_RE = re.compile(
    r"host (\d+) warm after ([0-9.]+) s(?: \(import thread priority (-?\d+|None)\))?"
)
READY_RE = re.compile(r"=== ready at (http://\S+?)/? after ([0-9.]+) s")
WARM_SECONDS = 300
THREAD_PRIORITY_BELOW_NORMAL = -1

# Run by the build's Windows Python in the check's prefix: every MLflowLauncher.exe process, its
# parent, priority class and its threads' priorities, sampled until STOP exists (or once).
WIN_THREADS = r"""
import ctypes, json, os, sys, time
from ctypes import wintypes as w
k = ctypes.WinDLL("kernel32", use_last_error=True)
k.CreateToolhelp32Snapshot.restype = w.HANDLE
k.OpenThread.restype = w.HANDLE
k.OpenProcess.restype = w.HANDLE
for f in (k.Process32FirstW, k.Process32NextW, k.Thread32First, k.Thread32Next):
    f.argtypes = [w.HANDLE, ctypes.c_void_p]
k.GetThreadPriority.argtypes = [w.HANDLE]
k.GetPriorityClass.argtypes = [w.HANDLE]
k.CloseHandle.argtypes = [w.HANDLE]
class P(ctypes.Structure):
    _fields_ = [("size", w.DWORD), ("usage", w.DWORD), ("pid", w.DWORD),
                ("heap", ctypes.c_size_t), ("module", w.DWORD), ("threads", w.DWORD),
                ("ppid", w.DWORD), ("base", ctypes.c_long), ("flags", w.DWORD),
                ("exe", ctypes.c_wchar * 260)]
class T(ctypes.Structure):
    _fields_ = [("size", w.DWORD), ("usage", w.DWORD), ("tid", w.DWORD), ("pid", w.DWORD),
                ("base", ctypes.c_long), ("delta", ctypes.c_long), ("flags", w.DWORD)]
def sample():
    snap = k.CreateToolhelp32Snapshot(0x2 | 0x4, 0)
    procs, e = {}, P()
    e.size = ctypes.sizeof(P)
    ok = k.Process32FirstW(snap, ctypes.byref(e))
    while ok:
        if e.exe.lower() == "mlflowlauncher.exe":
            cls = None
            h = k.OpenProcess(0x1000, False, e.pid)
            if h:
                cls = k.GetPriorityClass(h) or None
                k.CloseHandle(h)
            procs[e.pid] = {"ppid": e.ppid, "class": cls, "threads": {}}
        ok = k.Process32NextW(snap, ctypes.byref(e))
    t = T()
    t.size = ctypes.sizeof(T)
    ok = k.Thread32First(snap, ctypes.byref(t))
    while ok:
        if t.pid in procs:
            prio = None
            h = k.OpenThread(0x0040 | 0x0800, False, t.tid)
            if h:
                got = k.GetThreadPriority(h)
                prio = None if got == 0x7FFFFFFF else got
                k.CloseHandle(h)
            procs[t.pid]["threads"][t.tid] = prio
        ok = k.Thread32Next(snap, ctypes.byref(t))
    k.CloseHandle(snap)
    return procs
stop = sys.argv[1] if len(sys.argv) > 1 else ""
deadline = time.monotonic() + 600
while True:
    print(json.dumps({"t": time.time(), "procs": sample()}), flush=True)
    if not stop or os.path.exists(stop) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
"""


class WinProcs:
    """The Windows view of the launcher's processes (WIN_THREADS in the build's Windows Python)."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.env, self.work = env, work
        self.script = work / "win_threads.py"
        self.script.write_text(WIN_THREADS, "utf-8")
        self.stop_file = work / "win_threads.stop"
        self.proc: subprocess.Popen[bytes] | None = None
        self.out: Output | None = None

    def _popen(self, *args: str) -> tuple[subprocess.Popen[bytes], Output]:
        proc = subprocess.Popen(
            ["wine", str(WINE_CACHE / "winpy" / "python.exe"), winpath(self.script), *args],
            env={**self.env, "PYTHONUTF8": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,  # a Windows Python wants a pipe
            stderr=subprocess.STDOUT,
        )
        return proc, Output(proc)

    def watch(self) -> None:
        """Start sampling in the background until :meth:`samples` stops it."""
        self.stop_file.unlink(missing_ok=True)
        self.proc, self.out = self._popen(winpath(self.stop_file))

    def samples(self) -> list[dict[str, Any]]:
        """Stop the watcher; every sample it took (time, {pid: process})."""
        if self.proc is None or self.out is None:
            return []
        self.stop_file.write_text("stop")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)
        if self.proc.poll() is None:
            self.proc.kill()
        time.sleep(0.3)
        return _parse(self.out.lines)

    def once(self) -> dict[int, dict[str, Any]]:
        proc, out = self._popen()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(120)
        time.sleep(0.3)
        found = _parse(out.lines)
        return found[-1]["procs"] if found else {}


def _parse(lines: list[str]) -> list[dict[str, Any]]:
    samples = []
    for line in lines:
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            procs = {
                int(pid): {**p, "threads": {int(t): v for t, v in p["threads"].items()}}
                for pid, p in data["procs"].items()
            }
            samples.append({"t": data["t"], "procs": procs})
    return samples


def _wait_for(tray: Any, pattern: re.Pattern[str], seconds: float) -> re.Match[str] | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = pattern.search(tray.log())
        if found is not None or (tray.proc is not None and tray.proc.poll() is not None):
            return found
        time.sleep(0.5)
    return None


def _set_settings(config: Path, **values: object) -> dict[str, Any]:
    """Change settings in the config file; returns the settings it had."""
    data = json.loads(config.read_text("utf-8"))
    before = dict(data.get("settings", {}))
    data.setdefault("settings", {}).update(values)
    config.write_text(json.dumps(data, indent=2), "utf-8")
    return before


def _restore_settings(config: Path, before: dict[str, Any]) -> None:
    data = json.loads(config.read_text("utf-8"))
    data["settings"] = before
    config.write_text(json.dumps(data, indent=2), "utf-8")


def host_checks(
    session: Any, prefix: Any, lay: Any, checks: Checks, tray: Any, names: list[str], work: Path
) -> None:
    """The host checks on ``names`` (two projects on the UNC share, already added)."""
    before = _set_settings(lay.config, keep_warm=True, open_browser=False, watch_interval_seconds=3)
    try:
        _host_checks(session, prefix, lay, checks, tray, names, work)
    finally:
        tray.kill()
        _restore_settings(lay.config, before)


def _opened(session: Any, lay: Any, name: str) -> tuple[str | None, int | None, str, str]:
    """``open NAME`` through the running tray: (url, serving pid, ready after, CLI output)."""
    out = session.run(CLI, "open", name)
    deadline = time.monotonic() + 120
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    while time.monotonic() < deadline:
        for log in (lay.log_dir / "servers").glob(f"{slug}-*.log"):
            text = log.read_text("utf-8", "replace")
            ready = READY_RE.search(text)
            served_by = re.search(r"=== served by the host \(pid (\d+)\)", text)
            if ready:
                pid = int(served_by.group(1)) if served_by else None
                return ready.group(1) + "/", pid, ready.group(2), out
        time.sleep(0.5)
    return None, None, "", out


def _host_checks(
    session: Any, prefix: Any, lay: Any, checks: Checks, tray: Any, names: list[str], work: Path
) -> None:
    win = WinProcs(prefix.env | {"DISPLAY": session.display}, work)
    win.watch()  # before the tray: the host's import is over in well under a minute
    for log in (lay.log_dir / "servers").glob("*.log"):
        log.unlink()
    t0 = time.monotonic()
    if not tray.start(checks, "host"):
        win.samples()
        return
    started = _wait_for(tray, STARTED_RE, 60)
    warm = _wait_for(tray, WARM_RE, WARM_SECONDS) if started else None
    samples = win.samples()
    pid = int(started.group(1)) if started else None
    if not checks.report(
        warm is not None and started is not None and warm.group(1) == started.group(1),
        f"host: keep_warm on, the tray started host {pid} and it logged warm"
        + (f" after {warm.group(2)} s" if warm else f": none in {WARM_SECONDS} s")
        + f" ({time.monotonic() - t0:.0f} s after the tray's start)",
    ):
        print(tray.log()[-3000:], file=sys.stderr)
        return
    assert pid is not None
    joined = "could not put server" not in tray.log()
    checks.report(joined, "host: no `could not put server ... into the job object` in the log")
    assert warm is not None
    _priority_check(checks, pid, samples, warm.group(3))

    # 3: two projects on the share, opened through the running tray, served by that one host
    urls = []
    for name, own in zip(names, ("unc-exp", "bundle_train_001_a"), strict=True):
        t1 = time.monotonic()
        url, served_by, after, out = _opened(session, lay, name)
        said = "" if served_by else f" (server log: {served_by}; CLI said {out.strip()[-200:]!r})"
        checks.report(
            served_by == pid, f"host: `{CLI} open {name}` was served by the warm host {pid}{said}"
        )
        listed = ""
        if url is not None and healthy(url):
            with contextlib.suppress(OSError):
                search = "ajax-api/2.0/mlflow/experiments/search?max_results=100"
                listed = fetch(url + search, key=_running_key(lay, name))
        others = [o for o in ("unc-exp", "bundle_train_001_a") if o != own]
        if not checks.report(
            own in listed and not any(o in listed for o in others),
            f"host: {name} answers at {url} with its own experiments only"
            + (f" (ready after {after} s; {time.monotonic() - t1:.1f} s from `open`)"
               if url else ""),
        ):  # fmt: skip
            for log in (lay.log_dir / "servers").glob("*.log"):
                print(
                    f"--- {log.name}\n{log.read_text('utf-8', 'replace')[-4000:]}", file=sys.stderr
                )
            print(tray.log()[-3000:], file=sys.stderr)
        urls.append(url)
    procs = win.once()
    children = [p for p, info in procs.items() if info["ppid"] in procs]
    trays = [p for p in procs if p not in children]
    checks.report(
        len(set(urls)) == len(names) and None not in urls and children == [pid],
        f"host: one process ({sorted(children)}), {len(set(urls))} ports: {urls}",
    )
    _run_event_check(session, lay, checks, tray, work)

    # 4: the tray killed hard; the Job Object must end the host and what it serves
    before_kill = [p.pid for p in wait_gone(lay.instdir, 0)]
    if not checks.report(
        len(trays) == 1 and pid in children,
        f"host: Windows shows the tray {trays} and its servers {sorted(children)}",
    ):
        return
    t2 = time.monotonic()
    killed = prefix.wine("taskkill", "/F", "/PID", str(trays[0]), timeout=60)
    left = wait_gone(lay.instdir, 30)
    checks.report(
        not left and not any(u is not None and healthy(u) for u in urls),
        f"host: `taskkill /F` of the tray ({killed.strip()[:80]!r}) left no host and no server"
        + (f" (left: {[p.pid for p in left]})" if left else "")
        + f" ({len(before_kill)} Linux processes before, gone in {time.monotonic() - t2:.1f} s)",
    )
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()


WIN_RUN = r"""
import sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("unc-exp")
with mlflow.start_run(run_name="watched-run") as run:
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
print("RUN", run.info.run_id)
"""
UNC_STORE = r"\\fileserver\mlshare\mlflow\team\mlruns"
EVENT_RE = re.compile(r"run event FINISHED: (.*)")


def _run_event_check(session: Any, lay: Any, checks: Checks, tray: Any, work: Path) -> None:
    """Issue 24 on Windows: a run the Windows MLflow client logs to the UNC store while the tray
    watches (interval 3 s here) is told: its event is in the app log."""
    script = work / "win_run.py"
    script.write_text(WIN_RUN, "utf-8")
    env = {**session.env, "PYTHONUTF8": "1", "MLFLOW_ALLOW_FILE_STORE": "true",
           "GIT_PYTHON_REFRESH": "quiet"}  # fmt: skip
    time.sleep(5)  # a first look sees the store as it is: what follows is news
    proc = subprocess.run(
        ["wine", str(WINE_CACHE / "winpy" / "python.exe"), winpath(script), UNC_STORE],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=600, check=False,
    )  # fmt: skip
    out = proc.stdout.decode("utf-8", "replace")
    run = re.search(r"RUN (\w+)", out)
    if not checks.report(
        run is not None, "runs: the Windows MLflow client logged a run to the share"
    ):
        print(out[-2000:], file=sys.stderr)
        return
    t0 = time.monotonic()
    seen = None
    while time.monotonic() - t0 < 90 and seen is None:
        seen = EVENT_RE.search(tray.log())
        time.sleep(1)
    checks.report(
        seen is not None and "watched-run" in seen.group(1),
        "runs: the tray's log tells the run finished"
        + (f" after {time.monotonic() - t0:.0f} s: {seen.group(1)[:120]!r}" if seen else ""),
    )


def _priority_check(
    checks: Checks, pid: int, samples: list[dict[str, Any]], said: str | None
) -> None:
    """Was a thread of the host at THREAD_PRIORITY_BELOW_NORMAL while it imported? Seen from
    outside (the sampler) or, where Wine shows another process no thread priorities, as the
    host's own GetThreadPriority said it in its warm line (``said``)."""
    seen = [s["procs"][pid] for s in samples if pid in s["procs"]]
    readable = [p for p in seen if any(v is not None for v in p["threads"].values())]
    low = [p for p in readable if THREAD_PRIORITY_BELOW_NORMAL in p["threads"].values()]
    classes = sorted({hex(p["class"]) for p in seen if p["class"]})
    outside = (
        f"{len(low)} of {len(readable)} readable samples from outside"
        f" (process class {', '.join(classes) or '?'})"
    )
    checks.report(
        bool(low) or said == str(THREAD_PRIORITY_BELOW_NORMAL),
        f"host: while importing, host {pid} had a thread at THREAD_PRIORITY_BELOW_NORMAL:"
        f" {outside}; the host's own GetThreadPriority said {said}",
    )


def _running_key(lay: Any, name: str) -> str | None:
    """A served project's access key (launcher/server/access_key's user-only file)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
    for path in sorted((lay.local / "mlflow-launcher" / "running").glob(f"{slug}-*.json")):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            key = json.loads(path.read_text("utf-8")).get("key")
            if key:
                return str(key)
    return None
