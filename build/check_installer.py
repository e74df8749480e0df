"""Prove the Windows installer under Wine, in a FRESH prefix (never the build's), step by step.

    python build/check_installer.py build/dist/windows/MLflowLauncher-<version>-setup.exe \\
        [--json OUT.json] [--keep] [--skip unc]

Never trusts a Wine exit code: every step reads what was written (files, the prefix's user.reg,
the shortcut's bytes, the app's own log and output) or asks the server over HTTP.

1. install: `setup.exe /S` into a new prefix; the program files, the Start-menu shortcut (its
   target, and the installer's call that sets its AppUserModelID) and the HKCU uninstall entry
   with every value Windows shows exist.
2. app: the installed console exe adds, lists and serves a folder store (/health, the UI, the
   experiments, a Linux MLflow client logging through it; Ctrl-C stops it, nothing left); the
   tray starts from the shortcut's target on Qt's `windows` platform with its AppUserModelID set.
2b. credentials: a PostgreSQL project's password goes to the Windows Credential Manager, not
   config.json nor any file of the launcher's; `doctor` logs in with it; `password --forget`
   removes it; an old config's password is moved there on first start
   (build/check_credentials_windows.py).
3. unc: a share made real through `dosdevices/unc/<server>/<share>`; the WINDOWS MLflow client
   (the build's Windows Python) writes a folder store to `\\\\server\\share\\...`; the installed
   launcher serves it added as `\\\\server\\share\\...`, `//server/share/...` and
   `file://server/share/...`: experiments, a metric history and an artifact come back through
   the server; nothing is written into the share; a share that goes away gives errors and the
   server recovers when it is back.
3b. host: the tray's warm host (keep_warm) gets warm, imports below normal priority, serves two
   projects on the share opened with `open NAME` from that one process on two ports, each with
   its own experiments, and a tray killed with `taskkill /F` leaves no host and no server: the
   Job Object (build/check_host_windows.py).
4. upgrade: a higher version, made from the same folder by makensis (`windows.sh installer`), is
   offered in a folder feed and installed by the running launcher's own `update` (with "Start at
   login" on; build/check_update.py: a feed with a wrong SHA-256 is refused first and the old
   version keeps running): the tray is asked to quit through its single-instance channel and
   exits, `_internal` is replaced whole, the uninstall entry has the new version, the installer
   starts the new tray, the projects are still there, the Run value points at the installed exe.
5. uninstall: `Uninstall.exe /S`, `wineserver -w`: no program file, shortcut, uninstall entry or
   Run value is left; the config is.

Prints one PASS/FAIL line per check and each step's time; exits 0 only when all passed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "build"))
from check_bundle import make_store  # noqa: E402
from check_credentials_windows import credential_checks  # noqa: E402
from check_host_windows import host_checks  # noqa: E402
from check_update import update_from_feed  # noqa: E402
from check_windows import (  # noqa: E402
    CLI,
    GUI,
    TRAY_RE,
    WINE_CACHE,
    Checks,
    Output,
    Session,
    fetch,
    healthy,
    ours,
    read_user_reg,
    serve,
    split_key,
    wait_gone,
    winpath,
)

APP = "MLflow Launcher"
UNINST_KEY = r"Software\Microsoft\Windows\CurrentVersion\Uninstall\MLflowLauncher"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
UNINST_VALUES = (
    "DisplayName",
    "DisplayVersion",
    "Publisher",
    "DisplayIcon",
    "InstallLocation",
    "EstimatedSize",
    "UninstallString",
    "QuietUninstallString",
)
UNC_SERVER, UNC_SHARE = "fileserver", "mlshare"


def appid() -> str:
    text = (REPO / "launcher" / "app" / "appid.py").read_text("utf-8")
    found = re.search(r'^APP_USER_MODEL_ID = "(.*)"$', text, re.M)
    assert found, "no APP_USER_MODEL_ID in launcher/app/appid.py"
    return found.group(1)


def version() -> str:
    text = (REPO / "launcher" / "__init__.py").read_text("utf-8")
    found = re.search(r'^__version__ = "(.*)"$', text, re.M)
    assert found
    return found.group(1)


# ------------------------------------------------------------------------------- Wine's files
def lnk_target(lnk: Path) -> str:
    """The LocalBasePath of a .lnk (MS-SHLLINK: header, optional IDList, then LinkInfo)."""
    data = lnk.read_bytes()
    flags = struct.unpack_from("<I", data, 0x14)[0]
    pos = 0x4C
    if flags & 0x1:  # HasLinkTargetIDList
        pos += 2 + struct.unpack_from("<H", data, pos)[0]
    if not flags & 0x2:  # HasLinkInfo
        return ""
    base = pos + struct.unpack_from("<I", data, pos + 16)[0]
    return data[base : data.index(b"\0", base)].decode("mbcs" if os.name == "nt" else "latin-1")


class Prefix:
    """A fresh Wine prefix with what Wine 8 lacks for Qt and MLflow (the build's stand-in DLLs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "PYTHON"))}
        self.env.pop("MLFLOW_LAUNCHER_HOME", None)  # the installer's `quit` must find the tray
        self.env.update(
            WINEPREFIX=str(path),
            WINEARCH="win64",
            WINEDEBUG="-all",
            WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe=d",
        )

    def create(self) -> None:
        if self.path.exists():
            shutil.rmtree(self.path)
        self.wine("wineboot", "--init")
        self.wait()
        self.wine("reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d", "win10", "/f")
        self.wait()
        sys32 = self.path / "drive_c" / "windows" / "system32"
        for dll in ("icuuc.dll", "bcryptprimitives.dll"):
            shutil.copy2(WINE_CACHE / "dlls" / dll, sys32 / dll)
        for icm in (sys32 / "spool" / "drivers" / "color").glob("*.icm"):
            icm.unlink()

    def wine(self, *args: str, timeout: float = 600, debug: str | None = None) -> str:
        env = {**self.env, **({"WINEDEBUG": debug} if debug else {})}
        proc = subprocess.run(
            ["wine", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        return proc.stdout.decode("utf-8", "replace")

    def wait(self, seconds: float = 120) -> bool:
        try:
            subprocess.run(["wineserver", "-w"], env=self.env, check=False, timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    @property
    def user(self) -> Path:
        users = [
            p
            for p in (self.path / "drive_c" / "users").iterdir()
            if p.name.lower() not in ("public", "default")
        ]
        assert len(users) == 1, users
        return users[0]

    def unix(self, windows_path: str) -> Path:
        """C:\\users\\x\\... -> the file in this prefix."""
        drive, rest = windows_path[0].lower(), windows_path[3:].replace("\\", "/")
        root = self.path / "dosdevices" / f"{drive}:"
        return root.resolve() / rest


class Layout:
    """Where the installer and the app write, as Unix paths inside the prefix."""

    def __init__(self, prefix: Prefix) -> None:
        user = prefix.user
        self.appdata = user / "AppData" / "Roaming"
        self.local = user / "AppData" / "Local"
        self.instdir = self.local / "Programs" / APP
        self.shortcut = (
            self.appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / (APP + ".lnk")
        )
        # launcher/model/paths.py on Windows (platformdirs)
        self.config = self.appdata / "mlflow-launcher" / "config.json"
        self.data = self.local / "mlflow-launcher"  # the data folder; the logs are inside
        self.log_dir = self.data / "Logs"
        self.app_log = self.log_dir / "launcher.log"


class Step:
    """Times one numbered step and prints it (the CI log shows where the minutes go)."""

    def __init__(self, checks: Checks, timings: dict[str, float]) -> None:
        self.checks = checks
        self.timings = timings

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        print(f"=== step {name}", flush=True)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - t0
            self.timings[name] = round(took, 1)
            print(f"=== step {name}: {took:.1f} s", flush=True)


# ------------------------------------------------------------------------------- the steps
def install(prefix: Prefix, lay: Layout, checks: Checks, setup: Path, want_version: str) -> None:
    out = prefix.wine(str(setup), "/S", debug="-all,fixme+shell")
    idle = prefix.wait()
    checks.report(idle, "install: `setup.exe /S` finished (wineserver -w returned)")
    for name in (GUI, CLI, "Uninstall.exe", "_internal"):
        checks.report((lay.instdir / name).exists(), f"install: {lay.instdir.name}\\{name} exists")
    bundled = sum(1 for p in (lay.instdir / "_internal").rglob("*") if p.is_file())
    checks.report(bundled > 1000, f"install: {bundled} files under _internal")
    present = lay.shortcut.is_file()
    checks.report(present, "install: the Start-menu shortcut exists")
    if present:
        target = lnk_target(lay.shortcut)
        checks.report(
            target.lower().endswith("\\programs\\mlflow launcher\\" + GUI.lower()),
            f"install: the shortcut starts {target}",
        )
        in_file = appid().encode("utf-16-le") in lay.shortcut.read_bytes()
        # Wine 8's IPropertyStore of shell links is a stub (SetValue/Commit print a FIXME and
        # store nothing), so the ID cannot reach the .lnk under Wine. What can be proven here:
        # the installer opened the shortcut it made and called SetValue on its property store.
        called = "propertystore_SetValue" in out and "propertystore_Commit" in out
        how = (
            "in the .lnk"
            if in_file
            else (
                "IPropertyStore::SetValue and Commit called; Wine 8 stubs them, so not in the .lnk"
            )
        )
        checks.report(in_file or called, f"install: the shortcut's AppUserModelID was set ({how})")
    entry = read_user_reg(prefix.path).get(UNINST_KEY.lower(), {})
    missing = [v for v in UNINST_VALUES if not entry.get(v)]
    checks.report(
        not missing,
        f"install: HKCU uninstall entry has {', '.join(UNINST_VALUES)}"
        + (f" (missing {missing})" if missing else ""),
    )
    if not missing:
        location = prefix.unix(entry["InstallLocation"])
        checks.report(
            entry["DisplayVersion"] == want_version,
            f"install: DisplayVersion {entry['DisplayVersion']}",
        )
        checks.report(location == lay.instdir.resolve(), f"install: InstallLocation {location}")
        checks.report(
            entry["QuietUninstallString"].endswith('Uninstall.exe" /S'),
            f"install: QuietUninstallString {entry['QuietUninstallString']}",
        )
        size_kb = int(entry["EstimatedSize"].split(":")[1], 16)
        checks.report(size_kb > 100_000, f"install: EstimatedSize {size_kb / 1024:.0f} MB")


class Tray:
    """The installed tray, started the way the Start-menu shortcut starts it."""

    def __init__(self, session: Session, lay: Layout, prefix: Prefix) -> None:
        self.session, self.lay, self.prefix = session, lay, prefix
        self.proc: subprocess.Popen[bytes] | None = None
        self.out: Output | None = None
        self.log_from = 0

    def log(self) -> str:
        if not self.lay.app_log.exists():
            return ""
        return self.lay.app_log.read_text("utf-8", "replace")[self.log_from :]

    def start(self, checks: Checks, tag: str) -> bool:
        # Started by its Windows path, as Explorer starts the shortcut: sys.executable (and so the
        # Run value "Start at login" writes) is then C:\...\Programs\..., not a Z:\ path.
        target = lnk_target(self.lay.shortcut)
        if not checks.report(self.prefix.unix(target).is_file(), f"{tag}: {target} exists"):
            return False
        self.log_from = (
            len(self.lay.app_log.read_text("utf-8", "replace"))
            if (self.lay.app_log.exists())
            else 0
        )
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            ["nice", "-n", os.environ.get("NICE", "10"), "wine", target],
            env=self.session.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,  # a Windows Python wants a pipe, never a file
            stderr=subprocess.STDOUT,
        )
        self.out = Output(self.proc)
        found = None
        while time.monotonic() - t0 < 180 and found is None:
            found = TRAY_RE.search(self.log())
            if found is None:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.3)
        if not checks.report(
            found is not None,
            f"{tag}: the tray from {target} logged `tray shown`"
            f" after {time.monotonic() - t0:.1f} s",
        ):
            return False
        assert found is not None
        checks.report(
            found.group(1) == "windows" and found.group(2) == "tray",
            f"{tag}: on Qt's {found.group(1)!r} platform, as a {found.group(2)!r}",
        )
        checks.report(
            f"AppUserModelID {appid()}" in self.log(),
            f"{tag}: the tray set its AppUserModelID {appid()}",
        )
        return True

    def gone(self, seconds: float) -> bool:
        if self.proc is None:
            return True
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(seconds)
        return self.proc.poll() is not None and not [
            p
            for p in ours(self.lay.instdir)
            if "--serve-child" not in " ".join(p.cmdline())
            and GUI.lower() in " ".join(p.cmdline()).lower()
        ]

    def kill(self) -> None:
        for p in ours(self.lay.instdir):
            with contextlib.suppress(psutil.Error):
                p.kill()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def app_checks(session: Session, lay: Layout, checks: Checks, tray: Tray) -> None:
    store = make_store("folder", session.root / "store")
    out = session.run(CLI, "add", "wfolder", winpath(store))
    checks.report(
        "Added 'wfolder'" in out
        and lay.config.is_file()
        and "wfolder" in lay.config.read_text("utf-8"),
        f"app: the installed `{CLI} add` saved the project in %APPDATA%",
    )
    checks.report("wfolder" in session.run(CLI, "list"), "app: `list` shows it")
    serve(session, checks, "wfolder", "sigint")
    if tray.start(checks, "app"):
        out = session.run(CLI, "quit")
        checks.report("has quit" in out and tray.gone(60), f"app: `{CLI} quit` ended the tray")
        checks.report(
            "asked to quit through the single-instance channel" in tray.log()
            and "tray exited with 0" in tray.log(),
            "app: the tray log says why",
        )
    tray.kill()


def upgrade(
    prefix: Prefix,
    lay: Layout,
    session: Session,
    checks: Checks,
    tray: Tray,
    new_version: str,
    work: Path,
) -> None:
    setup = work / f"MLflowLauncher-{new_version}-setup.exe"
    t0 = time.perf_counter()
    build = subprocess.run(
        ["bash", str(REPO / "build" / "windows.sh"), "installer", new_version, str(setup)],
        env={**os.environ, "INSTALLER_COMPRESSOR": "zlib"},
        capture_output=True,
        text=True,
        check=False,
    )
    if not checks.report(
        setup.is_file(),
        f"upgrade: makensis made version {new_version} from the "
        f"same folder in {time.perf_counter() - t0:.0f} s",
    ):
        print(build.stderr[-3000:], file=sys.stderr)
        return
    config = json.loads(lay.config.read_text("utf-8"))
    config.setdefault("settings", {})["start_at_login"] = True
    lay.config.write_text(json.dumps(config, indent=2), "utf-8")
    stale = lay.instdir / "_internal" / "left-by-an-older-version.py"
    stale.write_text("raise SystemExit('stale')\n")
    if not tray.start(checks, "upgrade (old version)"):
        return
    run_value = read_run_value(session)
    checks.report(
        bool(run_value)
        and GUI.lower() in run_value.lower()
        and "\\programs\\mlflow launcher\\" in run_value.lower(),
        f"upgrade: Start at login points at the installed exe ({run_value})",
    )
    # Through the launcher's own updater, from a folder feed (build/check_update.py).
    relaunched = update_from_feed(
        session, checks, tray, setup, version(), new_version, UNINST_KEY, work
    )
    log = tray.log()
    checks.report(
        "asked to quit through the single-instance channel" in log and "tray exited with 0" in log,
        "upgrade: the tray was asked to quit through its channel and exited",
    )
    checks.report(
        not stale.exists(), "upgrade: _internal was replaced whole (a stale file is gone)"
    )
    if relaunched:
        checks.report("wfolder" in session.run(CLI, "list"), "upgrade: the project is still there")
        run_value = read_run_value(session)
        checks.report(
            "\\programs\\mlflow launcher\\" + GUI.lower() in run_value.lower(),
            f"upgrade: Start at login still points at the installed exe ({run_value})",
        )
        session.run(CLI, "quit")
        checks.report(tray.gone(60), "upgrade: the new tray quit")
    tray.kill()


def read_run_value(session: Session, seconds: float = 30) -> str:
    """The Run value once the tray wrote it (it does so just after its icon shows)."""
    deadline = time.monotonic() + seconds
    value = _run_value(session)
    while not value and time.monotonic() < deadline:
        time.sleep(1)
        value = _run_value(session)
    return value


def _run_value(session: Session) -> str:
    """The Run value, asked of the live registry (user.reg lags while the wineserver runs)."""
    proc = subprocess.run(
        ["wine", "reg", "query", "HKCU\\" + RUN_KEY, "/v", APP],
        env=session.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.strip().startswith(APP):
            return line.split("REG_SZ", 1)[-1].strip()
    return ""


def uninstall(prefix: Prefix, lay: Layout, checks: Checks) -> None:
    prefix.wine(str(lay.instdir / "Uninstall.exe"), "/S")
    # The uninstaller copies itself to %TEMP% and returns at once: wait for the copy too.
    checks.report(prefix.wait(), "uninstall: `Uninstall.exe /S` finished (wineserver -w returned)")
    left = (
        sorted(str(p.relative_to(lay.instdir)) for p in lay.instdir.rglob("*"))
        if (lay.instdir.exists())
        else []
    )
    checks.report(
        not lay.instdir.exists(),
        "uninstall: the program folder is gone"
        + (f" (left: {left[:5]} of {len(left)})" if left else ""),
    )
    checks.report(not lay.shortcut.exists(), "uninstall: the Start-menu shortcut is gone")
    reg = read_user_reg(prefix.path)
    checks.report(UNINST_KEY.lower() not in reg, "uninstall: the uninstall entry is gone")
    checks.report(APP not in reg.get(RUN_KEY.lower(), {}), "uninstall: the Run value is gone")
    kept = lay.config.is_file() and "wfolder" in lay.config.read_text("utf-8")
    checks.report(kept, f"uninstall: the config is kept ({lay.config.name} with the project)")


# ------------------------------------------------------------------------------- UNC shares
WIN_CLIENT = r"""
import os, sys, mlflow
root = sys.argv[1]
mlflow.set_tracking_uri(root)
exp = mlflow.create_experiment("unc-exp")
with mlflow.start_run(experiment_id=exp) as run:
    mlflow.log_param("p", "1")
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_text("hello from the share", "notes/hello.txt")
print("RUN", run.info.run_id, exp)
"""


# MLflow 3.17 refuses new folder stores without this; the check runs no git.
CLIENT_ENV = {"MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def unc_checks(session: Session, prefix: Prefix, checks: Checks, work: Path) -> bool:
    """The UNC checks; True when the share's store was written (its projects can be served)."""
    share = work / "share"
    (share / "mlflow" / "team").mkdir(parents=True)
    unc = prefix.path / "dosdevices" / "unc" / UNC_SERVER
    unc.mkdir(parents=True, exist_ok=True)
    link = unc / UNC_SHARE
    link.symlink_to(share)
    store_unc = rf"\\{UNC_SERVER}\{UNC_SHARE}\mlflow\team\mlruns"
    winpy = WINE_CACHE / "winpy" / "python.exe"
    script = work / "win_client.py"
    script.write_text(WIN_CLIENT, "utf-8")
    proc = subprocess.run(
        ["wine", str(winpy), winpath(script), store_unc],
        env={**session.env, "PYTHONUTF8": "1", **CLIENT_ENV},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=600,
        check=False,
    )
    out = proc.stdout.decode("utf-8", "replace")
    found = re.search(r"RUN (\w+) (\w+)", out)
    if not checks.report(
        found is not None and (share / "mlflow" / "team" / "mlruns").is_dir(),
        f"unc: the Windows MLflow client wrote a store to {store_unc}",
    ):
        print(out[-3000:], file=sys.stderr)
        return False
    assert found is not None
    run_id, exp_id = found.groups()
    # A second store on the share, for the host step (two UNC projects served by one process).
    make_store("folder", share / "mlflow" / "other")
    other = rf"\\{UNC_SERVER}\{UNC_SHARE}\mlflow\other\mlruns"
    out = session.run(CLI, "add", "share-other", other)
    checks.report("Added 'share-other'" in out, f"unc: `add share-other {other}`")
    before = tree_digest(share)
    forms = {
        "unc": store_unc,
        "slashes": f"//{UNC_SERVER}/{UNC_SHARE}/mlflow/team/mlruns",
        "file-uri": f"file://{UNC_SERVER}/{UNC_SHARE}/mlflow/team/mlruns",
    }
    for tag, form in forms.items():
        out = session.run(CLI, "add", f"share-{tag}", form)
        checks.report(f"Added 'share-{tag}'" in out, f"unc: `add share-{tag} {form}`")
    for tag in forms:
        serve_unc(
            session, checks, f"share-{tag}", run_id, exp_id, share, link, last=tag == "file-uri"
        )
    checks.report(tree_digest(share) == before, "unc: nothing was written into the share")
    return True


def serve_unc(
    session: Session,
    checks: Checks,
    name: str,
    run_id: str,
    exp_id: str,
    share: Path,
    link: Path,
    last: bool,
) -> None:
    proc, out = session.popen(CLI, "serve", name, "--no-browser")
    url = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 240 and url is None and proc.poll() is None:
        url = next((ln.strip() for ln in out.lines if ln.startswith("http://")), None)
        time.sleep(0.3)
    key = None
    if url is not None:
        url, key = split_key(url)  # the printed link carries the server's access key
    if not checks.report(
        url is not None and healthy(url),
        f"unc: {name} served at {url} ({time.monotonic() - t0:.1f} s)",
    ):
        print(out.text()[-3000:], file=sys.stderr)
        proc.kill()
        return
    assert url is not None
    checks.report(key is not None, f"unc: {name}: the server has an access key")

    def get(address: str) -> str:
        return fetch(address, key=key)

    api = url + "ajax-api/2.0/mlflow/"
    checks.report(
        _fails(lambda: fetch(api + "experiments/search?max_results=100")),
        f"unc: {name}: without the key the API is refused",
    )
    listed = get(api + "experiments/search?max_results=100")
    checks.report("unc-exp" in listed, f"unc: {name}: the experiments come back")
    history = json.loads(get(api + f"metrics/get-history?run_id={run_id}&metric_key=loss"))
    steps = sorted(m["step"] for m in history.get("metrics", []))
    checks.report(steps == [0, 1, 2], f"unc: {name}: the metric history has steps {steps}")
    artifact = (
        url
        + "get-artifact?"
        + urllib.parse.urlencode({"path": "notes/hello.txt", "run_uuid": run_id})
    )
    text = get(artifact)
    checks.report(text == "hello from the share", f"unc: {name}: the artifact comes back")
    if last:
        share_gone(checks, name, url, api, exp_id, link, share, get)
    from check_windows import wine_pid  # the CLI's own Wine process: Ctrl-C it

    pid = wine_pid(proc, CLI, session.bundle)
    if pid is not None:
        os.kill(pid, 2)
    left = wait_gone(session.bundle, 40)
    checks.report(not left, f"unc: {name}: stopped with Ctrl-C, nothing left")
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.kill()


def share_gone(
    checks: Checks,
    name: str,
    url: str,
    api: str,
    exp_id: str,
    link: Path,
    share: Path,
    fetch: Callable[[str], str],
) -> None:
    probe = api + f"experiments/get?experiment_id={exp_id}"
    link.unlink()  # the share disappears while it is served
    try:
        failed = _fails(lambda: fetch(probe))
        checks.report(failed, f"unc: {name}: with the share gone, the server answers with errors")
        checks.report(healthy(url), f"unc: {name}: ... and the server itself is still up")
    finally:
        link.symlink_to(share)
    deadline = time.monotonic() + 60
    back = False
    while time.monotonic() < deadline and not back:
        back = not _fails(lambda: fetch(probe)) and "unc-exp" in fetch(probe)
        time.sleep(1)
    checks.report(back, f"unc: {name}: the share is back and so are its experiments")


def _fails(call: Callable[[], str]) -> bool:
    try:
        call()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return True
    return False


# ------------------------------------------------------------------------------- signing
def signing_checks(checks: Checks, setup: Path, bundle: Path, work: Path) -> None:
    """Sign copies of both exes and the installer with a throwaway self-signed certificate
    (openssl), the way `windows.sh package` signs with SIGN_PFX, and verify them."""
    key, cert, pfx = work / "sign.key", work / "sign.pem", work / "sign.pfx"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=MLflow Launcher test signing", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)  # fmt: skip
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(cert),
                    "-out", str(pfx), "-passout", "pass:throwaway"], check=True,
                   capture_output=True)  # fmt: skip
    env = {**os.environ, "SIGN_PFX": str(pfx), "SIGN_PASSWORD": "throwaway"}
    env.pop("SIGN_TIMESTAMP_URL", None)  # no network
    for original in (bundle / GUI, bundle / CLI, setup):
        copy = work / f"signed-{original.name}"
        shutil.copy2(original, copy)
        subprocess.run(["bash", str(REPO / "build" / "windows.sh"), "sign-file", str(copy)],
                       env=env, capture_output=True, check=False)  # fmt: skip
        verify = subprocess.run(["osslsigncode", "verify", "-CAfile", str(cert), "-in", str(copy)],
                                capture_output=True, text=True, check=False)  # fmt: skip
        ok = verify.returncode == 0 and "Signature verification: ok" in verify.stdout
        checks.report(ok, f"signing: {original.name} signed with a throwaway certificate verifies")
        if not ok:
            print(verify.stdout[-2000:], verify.stderr[-2000:], file=sys.stderr)
        copy.unlink()
    if os.environ.get("SIGN_PFX"):
        for f in (bundle / GUI, bundle / CLI, setup):
            out = subprocess.run(["osslsigncode", "verify", "-in", str(f)], capture_output=True,
                                 text=True, check=False)  # fmt: skip
            checks.report("Signer's certificate" in out.stdout,
                          f"signing: {f.name} carries the SIGN_PFX signature")  # fmt: skip


# ------------------------------------------------------------------------------- main
def bump(v: str) -> str:
    """A version the installer must treat as newer: 0.1.0 -> 0.1.1 (the last number + 1)."""
    parts = re.match(r"(\d+(?:\.\d+)*)", v)
    assert parts, v
    nums = [int(n) for n in parts.group(1).split(".")]
    nums[-1] += 1
    return ".".join(map(str, nums))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("setup", type=Path, help="MLflowLauncher-<version>-setup.exe")
    ap.add_argument("--json", type=Path, help="write the checks' numbers and timings here")
    ap.add_argument("--keep", action="store_true", help="keep the prefix (under $WINE_CACHE)")
    skips = ["credentials", "unc", "host", "upgrade"]
    ap.add_argument("--skip", choices=skips, action="append", default=[])
    args = ap.parse_args()
    setup = args.setup.resolve()
    checks = Checks()
    timings: dict[str, float] = {}
    step = Step(checks, timings)
    want = version()
    checks.report(setup.is_file() and want in setup.name, f"installer {setup.name} exists")
    size_mb = setup.stat().st_size / 2**20
    checks.report(size_mb <= 90, f"installer is {size_mb:.1f} MB (at most 90)")
    stray = ours(setup.parent)
    if not checks.report(not stray, f"no process of ours before the check ({stray})"):
        return 1
    prefix = Prefix(WINE_CACHE / "check-prefix")
    with tempfile.TemporaryDirectory(prefix="installer-check-") as tmp:
        work = Path(tmp)
        with step("0 fresh prefix"):
            prefix.create()
        lay = Layout(prefix)
        session = Session(lay.instdir, work, prefix=prefix.path, log_dir=lay.log_dir)
        prefix.env["DISPLAY"] = session.display
        tray = Tray(session, lay, prefix)
        try:
            first = len(checks.results)  # the steps below are gated on the install's own checks

            def steps_ok() -> bool:
                return all(passed for passed, _ in checks.results[first:])

            with step("1 install"):
                install(prefix, lay, checks, setup, want)
            if steps_ok():
                with step("2 installed app"):
                    app_checks(session, lay, checks, tray)
            installed_ok = steps_ok()  # a failing UNC step must not hide the upgrade's result
            if installed_ok and "credentials" not in args.skip:
                with step("2b credentials"):
                    credential_checks(
                        session, prefix.path, lay.config, [lay.config.parent, lay.data], checks
                    )
            if installed_ok and "unc" not in args.skip:
                with step("3 UNC share"):
                    share_ok = unc_checks(session, prefix, checks, work)
                if share_ok and "host" not in args.skip:
                    with step("3b warm host"):
                        host_checks(
                            session, prefix, lay, checks, tray, ["share-unc", "share-other"], work
                        )
            if installed_ok and "upgrade" not in args.skip:
                with step("4 upgrade"):
                    upgrade(prefix, lay, session, checks, tray, bump(want), work)
            if (lay.instdir / "Uninstall.exe").exists():
                with step("5 uninstall"):
                    uninstall(prefix, lay, checks)
            with step("6 signing"):
                signing_checks(checks, setup, setup.parent / "MLflowLauncher", work)
        finally:
            tray.kill()
            session.close()
            if not checks.ok and lay.log_dir.exists():
                for log in sorted(lay.log_dir.rglob("*.log")):
                    print(f"--- {log}", file=sys.stderr)
                    print(log.read_text("utf-8", "replace")[-3000:], file=sys.stderr)
            if not args.keep:
                shutil.rmtree(prefix.path, ignore_errors=True)
    numbers = {"installer_mb": round(size_mb, 1), "steps_seconds": timings, **checks.numbers}
    if args.json:
        args.json.write_text(json.dumps({"ok": checks.ok, **numbers}, indent=2))
    print(json.dumps(numbers))
    for name, took in timings.items():
        print(f"TIME  {name}: {took:.1f} s")
    failed = [w for p, w in checks.results if not p]
    print(("OK" if checks.ok else f"FAILED ({len(failed)})") + f": {len(checks.results)} checks")
    return 0 if checks.ok else 1


if __name__ == "__main__":
    sys.exit(main())
