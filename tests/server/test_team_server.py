"""``mlflow-launcher team-server``: MLflow's own server on a real PostgreSQL, behind a login.

The PostgreSQL test runs when LAUNCHER_TEST_POSTGRES names a superuser URL of a running server
(.ci/run starts one); it works in a scratch database of its own, binds 127.0.0.1 only, and keeps
both passwords in a file keyring under tmp_path (the real credential store is never touched).
"""

from __future__ import annotations

import base64
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from subprocess import Popen
from typing import IO
from xml.etree import ElementTree

import psutil
import pytest

from launcher.app.cli import run_cli
from launcher.model import tls_pin
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.snippet import tracking_snippet
from launcher.model.stores import parse_store
from launcher.server import ports, rest, tls
from launcher.server.checks import preflight
from tests.conftest import EXPERIMENTS
from tests.server import postgres
from tests.server.helpers import gone, tree

REPO = Path(__file__).parents[2]
STORES = REPO / "tests" / "stores.py"
ADMIN_PASSWORD = f"team-admin-{uuid.uuid4().hex[:12]}"
DB_PASSWORD_IN_URL = f":{postgres.PASSWORD}@"
CLIENT = """
import os, sys
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("team-exp")
with mlflow.start_run(run_name="from-a-colleague"):
    mlflow.log_param("team_param", "42")
    for step in range(3):
        mlflow.log_metric("team_metric", step / 2, step=step)
    mlflow.log_text("hello", "note.txt")
"""


def _status(url: str, login: tuple[str, str] | None = None, cafile: str | None = None) -> int:
    request = urllib.request.Request(url)
    if login:
        token = base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the team server's command ended before it was ready"
        if rest.is_healthy(base, timeout=2):
            return
        time.sleep(0.5)
    raise AssertionError("the team server did not answer /health in time")


@contextmanager
def _team_server(port: int, stdout: IO[bytes] | int, stderr: IO[bytes]) -> Iterator[Popen[bytes]]:
    """``mlflow-launcher team-server TEAM`` on ``port``, the admin password given on its stdin,
    answering ``/health``; killed at the end if it still runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher", "team-server", "TEAM", "--port", str(port),
         "--workers", "2", "--password-stdin", "--timeout", "300"],
        cwd=REPO, env=dict(os.environ), stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
    )  # fmt: skip
    try:
        assert proc.stdin is not None
        proc.stdin.write((ADMIN_PASSWORD + "\n").encode())
        proc.stdin.flush()
        _wait_healthy(f"https://127.0.0.1:{port}", proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()


def _count(database: str, sql: str) -> int:
    if database.startswith("sqlite:///"):
        import sqlite3

        with closing(sqlite3.connect(database[len("sqlite:///") :])) as conn:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0
    import psycopg

    with psycopg.connect(database) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture(params=["postgres", "sqlite"])
def team_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The team's store: a scratch PostgreSQL database, or a SQLite file on this PC's disk."""
    yield from postgres.team_store(request.param, tmp_path)


@pytest.mark.process
def test_team_server_serves_https_behind_a_login(
    team_store: str, keyring_file: Path, paths: AppPaths, app_home: Path, tmp_path: Path
) -> None:
    """HTTPS by default with a self-signed certificate: the launcher pins it, the mlflow client
    logs with MLFLOW_TRACKING_SERVER_CERT_PATH, a changed certificate is refused clearly."""
    database = team_store
    if database.startswith("sqlite:///"):
        Path(database[len("sqlite:///") :]).parent.mkdir(parents=True)
    subprocess.run([sys.executable, str(STORES), "uri", database, *EXPERIMENTS], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    share = tmp_path / "share" / "artifacts"
    ConfigStore(paths).save(Config(projects=[Project("TEAM", database, artifacts=str(share))]))
    assert DB_PASSWORD_IN_URL not in paths.config_file.read_text(encoding="utf-8")
    port = ports.free_port()
    base = f"https://127.0.0.1:{port}"
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with (
        out.open("wb") as out_file,
        err.open("wb") as err_file,
        _team_server(port, out_file, err_file) as proc,
    ):
        pinned = tls_pin.pin_path(paths, "127.0.0.1", port)
        assert pinned.is_file()  # the server's own PC trusts its certificate
        with pytest.raises(urllib.error.URLError):  # nobody else does yet
            _status(base + "/health")
        cert = str(pinned)
        api = base + "/api/2.0/mlflow/experiments/search?max_results=100"
        assert _status(api, cafile=cert) == 401
        assert _status(api, ("admin", "wrong-password-0000"), cert) == 401
        assert _status(api, ("admin", ADMIN_PASSWORD), cert) == 200
        with pytest.raises(OSError):  # plain HTTP gets no answer
            _status(f"http://127.0.0.1:{port}/health")

        # The launcher's own REST calls and pre-flight send a remote project's login.
        remote = f"https://admin@127.0.0.1:{port}"  # the admin's password is in the keyring now
        assert set(EXPERIMENTS) <= {e["name"] for e in rest.search_experiments(remote)}
        assert not preflight.remote_answers(parse_store(remote)).is_error
        snippet = tracking_snippet(Project("TEAM", remote), paths=paths)
        assert f"'{tls_pin.CERT_PATH_VAR}', {cert!r}" in snippet

        client_env = dict(os.environ, MLFLOW_TRACKING_USERNAME="admin",
                          MLFLOW_TRACKING_PASSWORD=ADMIN_PASSWORD)  # fmt: skip
        client_env[tls_pin.CERT_PATH_VAR] = cert
        subprocess.run([sys.executable, "-c", CLIENT, base], env=client_env, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        assert _count(database, "SELECT count(*) FROM params WHERE key = 'team_param'") == 1
        assert _count(database, "SELECT count(*) FROM metrics WHERE key = 'team_metric'") == 3
        assert [p.name for p in share.rglob("note.txt")] == ["note.txt"]  # on the share

        # Another certificate (an impostor, or a new one): the client and the launcher refuse.
        other = tls.self_signed(tmp_path / "other", ["127.0.0.1"])
        client_env[tls_pin.CERT_PATH_VAR] = str(other.cert)
        client_env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"  # no minutes of back-off
        refused = subprocess.run([sys.executable, "-c", CLIENT, base], env=client_env,
                                 capture_output=True, timeout=300, text=True)  # fmt: skip
        assert refused.returncode != 0
        assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
        tls_pin.pin(paths, "127.0.0.1", port, other.pem())  # as if the pin were the other one
        finding = preflight.remote_answers(parse_store(remote))
        assert finding.is_error
        assert "different certificate" in finding.text and other.fingerprint() in finding.text
        with pytest.raises(tls_pin.CertificateChanged):
            rest.search_experiments(remote)
        assert not rest.is_healthy(base)

        pids = tree(proc.pid)
        assert len(pids) >= 4  # the CLI, the child, `mlflow server`, uvicorn and its workers
        lines = [_cmdline(pid) for pid in pids]
        assert any("--app-name basic-auth" in line for line in lines), lines
        assert any("--ssl-certfile" in line for line in lines), lines
        for line in lines:
            assert ADMIN_PASSWORD not in line and DB_PASSWORD_IN_URL not in line, line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert gone(pids, 30)
    printed = out.read_text() + err.read_text()
    assert out.read_text().splitlines()[0] == base + "/"  # the line people click
    assert f"mlflow-launcher add TEAM https://USER@127.0.0.1:{port}" in printed
    assert "mlflow-launcher password TEAM" in printed
    own = tls.TlsFiles(next(app_home.rglob("server-cert.pem")), Path())
    assert f"SHA-256 fingerprint: {own.fingerprint()}" in printed
    assert tls_pin.CERT_PATH_VAR in printed
    assert ADMIN_PASSWORD not in printed and DB_PASSWORD_IN_URL not in printed
    for file in app_home.rglob("*"):
        if file.is_file() and file.suffix != ".db":
            text = file.read_bytes().decode("utf-8", "replace")
            assert ADMIN_PASSWORD not in text and DB_PASSWORD_IN_URL not in text, file
    key = next(app_home.rglob("server-key.pem"))
    assert key.stat().st_mode & 0o077 == 0
    ini = next(app_home.rglob("*.ini"))
    assert ini.stat().st_mode & 0o077 == 0
    if database.startswith("postgresql"):
        assert "database_uri = postgresql://launcher@" in ini.read_text()
    else:
        assert "database_uri = sqlite:///" in ini.read_text()
    assert "auth_cache_ttl_seconds = 60" in ini.read_text()


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:  # a worker may exit meanwhile
        return ""


def test_a_folder_store_is_refused(
    folder_store: Path, paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    ConfigStore(paths).save(Config(projects=[Project("SHARE", str(folder_store))]))
    assert run_cli(["team-server", "SHARE"], paths=paths) == 1
    message = capsys.readouterr().err.strip().splitlines()
    assert len(message) == 1
    assert "needs a team database" in message[0] and "mlflow-launcher move" in message[0]
    assert "--to postgresql://" in message[0]


def test_a_sqlite_file_on_a_share_is_refused_with_the_reason_and_a_local_one_is_not(
    sqlite_store: Path, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from launcher.server import team_server
    from launcher.server.stores import shares

    project = Project("SHARE", str(sqlite_store))
    assert team_server.check_store(project).startswith("sqlite:///")  # this PC's own disk
    monkeypatch.setattr(shares, "network_share", lambda path: "a network file system (cifs)")
    with pytest.raises(team_server.NotATeamStore) as refused:
        team_server.check_store(project)
    message = str(refused.value)
    assert "network file system (cifs)" in message and "SQLite Over a Network" in message
    assert "this PC's own disk" in message and "mlflow-launcher move" in message


def test_boot_units_hold_the_command_and_no_secret(
    paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://team:db-secret-123@db.example:5432/mlflow"
    ConfigStore(paths).save(Config(projects=[Project("TEAM", url)]))
    assert run_cli(["team-server", "TEAM", "--port", "5055", "--write-unit", "systemd"],
                   paths=paths) == 0  # fmt: skip
    unit = capsys.readouterr().out
    exec_line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert "team-server TEAM --host 127.0.0.1 --port 5055 --workers 4" in exec_line
    assert "WantedBy=multi-user.target" in unit and "db-secret" not in unit
    assert run_cli(["team-server", "TEAM", "--write-unit", "task"], paths=paths) == 0
    xml = capsys.readouterr().out
    written = next(paths.data_dir.rglob("*.xml"))
    assert written.read_text(encoding="utf-16") == xml
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    root = ElementTree.fromstring(xml.split("\n", 1)[1])
    assert root.find("t:Triggers/t:BootTrigger", ns) is not None
    arguments = root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns) or ""
    assert "team-server TEAM" in arguments and "db-secret" not in xml


def test_the_frozen_exe_refuses_with_its_own_python_but_not_with_the_projects(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Frozen, sys.executable is the exe: `-m mlflow` (and MLflow's `-m uvicorn` workers) cannot
    run, so the team server needs the project's own Python or a pip install."""
    from launcher.server import team_server
    from launcher.server.python import environment

    url = "postgresql://team@db.example:5432/mlflow"
    ConfigStore(paths).save(Config(projects=[Project("TEAM", url)]))
    assert team_server.frozen_refusal(Project("TEAM", url)) is None  # not frozen here
    monkeypatch.setattr(environment, "FROZEN", True)
    assert run_cli(["team-server", "TEAM", "--write-unit", "systemd"], paths=paths) == 1
    message = capsys.readouterr().err
    assert "frozen" in message and "--python" in message and "pip install" in message
    assert not list(paths.data_dir.rglob("*.service"))

    class Other:
        own = False

    monkeypatch.setattr(environment, "resolve", lambda python: Other())
    assert team_server.frozen_refusal(Project("TEAM", url, python="/envs/ml/bin/python")) is None


WORKSPACE_CLIENT = """
import sys
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_workspace(sys.argv[2])
mlflow.set_experiment("from-ann")
with mlflow.start_run():
    mlflow.log_metric("m", 1.0)
print(sorted(e.name for e in mlflow.search_experiments()))
"""


@pytest.mark.process
def test_a_gathered_share_served_with_workspaces_and_granted_per_login(
    keyring_file: Path,
    paths: AppPaths,
    folder_store: Path,
    rich_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """gather -> team-server on the SQLite file (workspaces on by themselves, HTTPS) -> a login
    sees only the workspace granted to it, and the mlflow client logs into it."""
    import io

    from launcher.server.stores import workspaces

    db = tmp_path / "team" / "mlflow.db"
    db.parent.mkdir()
    ConfigStore(paths).save(Config(projects=[
        Project("speech", str(folder_store)), Project("vision", str(rich_store)),
        Project("TEAM", str(db), artifacts=str(tmp_path / "share" / "artifacts")),
    ]))  # fmt: skip
    assert run_cli(["gather", "speech", "vision", "--to", str(db)], paths=paths) == 0
    port = ports.free_port()
    base = f"https://127.0.0.1:{port}"
    err = tmp_path / "err.txt"
    with err.open("wb") as err_file, _team_server(port, subprocess.DEVNULL, err_file) as proc:
        admin = f"https://admin@127.0.0.1:{port}"
        assert workspaces.of_server(admin) == ["default", "speech", "vision"]
        assert {e["name"] for e in rest.search_experiments(admin, workspace="vision")} >= {"alpha"}

        ann_password = "ann-password-" + uuid.uuid4().hex[:8]
        monkeypatch.setattr(sys, "stdin", io.StringIO(ann_password + "\n"))
        code = run_cli(["team-grant", "TEAM", "ann", "speech", "--create", "--port", str(port)],
                       paths=paths)  # fmt: skip
        assert code == 0, capsys.readouterr().err
        cert = str(tls_pin.pin_path(paths, "127.0.0.1", port))
        env = dict(
            os.environ, MLFLOW_TRACKING_USERNAME="ann", MLFLOW_TRACKING_PASSWORD=ann_password
        )
        env[tls_pin.CERT_PATH_VAR] = cert
        env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
        done = subprocess.run([sys.executable, "-c", WORKSPACE_CLIENT, base, "speech"], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert "from-ann" in done.stdout and "dra_train_001_baseline" in done.stdout
        refused = subprocess.run([sys.executable, "-c", WORKSPACE_CLIENT, base, "vision"],
                                 env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert refused.returncode != 0  # no role in `vision`: no access
        assert "PERMISSION_DENIED" in refused.stderr or "403" in refused.stderr

        # Ann's launcher adds the workspaces she may see, one project each.
        from launcher.model import credentials

        credentials.store_password(f"https://ann@127.0.0.1:{port}", ann_password)
        assert run_cli(["add", "Team", f"https://ann@127.0.0.1:{port}", "--all-workspaces"],
                       paths=paths) == 0  # fmt: skip
        listed = {p.name: p.workspace for p in ConfigStore(paths).load().config.projects
                  if p.workspace}  # fmt: skip
        assert listed == {"Team: speech": "speech"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    printed = err.read_text()
    assert "team-grant TEAM USER WORKSPACE" in printed and "--all-workspaces" in printed
