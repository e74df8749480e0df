"""The run watcher against a remote team server with a login (``mlflow-launcher team-server``
on a scratch PostgreSQL database, over HTTPS with its pinned certificate): the same training
script, the same events, through REST searches that carry the login from the credential store
(a file keyring under tmp_path)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.model import tls_pin
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import ports
from tests.server import postgres
from tests.server.runs.test_watch_stores import pg_hash, scenario
from tests.server.test_team_server import ADMIN_PASSWORD, REPO, _wait_healthy


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgres.scratch_database()


@pytest.mark.process
@pytest.mark.skipif(not postgres.ADMIN_URL, reason="LAUNCHER_TEST_POSTGRES is not set")
def test_team_server_with_a_login(
    database: str, keyring_file: Path, paths: AppPaths, tmp_path: Path
) -> None:
    stores = str(REPO / "tests" / "stores.py")  # MLflow's tables, one experiment of another prefix
    subprocess.run([sys.executable, stores, "uri", database, "other_x"], check=True, timeout=300)
    share = tmp_path / "artifacts"
    ConfigStore(paths).save(Config(projects=[Project("TEAM", database, artifacts=str(share))]))
    port = ports.free_port()
    base = f"https://127.0.0.1:{port}"  # HTTPS by default, its certificate pinned here
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher", "team-server", "TEAM", "--port", str(port),
         "--workers", "1", "--password-stdin", "--timeout", "300"],
        cwd=REPO, env=dict(os.environ), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "err.txt").open("wb"),
    )  # fmt: skip
    try:
        assert proc.stdin is not None
        proc.stdin.write((ADMIN_PASSWORD + "\n").encode())
        proc.stdin.flush()
        try:
            _wait_healthy(base, proc)
        except AssertionError:
            raise AssertionError((tmp_path / "err.txt").read_text()) from None
        cert = str(tls_pin.pin_path(paths, "127.0.0.1", port))
        login = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
                 tls_pin.CERT_PATH_VAR: cert}  # fmt: skip
        remote = f"https://admin@127.0.0.1:{port}"  # its password is in the keyring
        scenario(remote, base, lambda: pg_hash(database), login)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
