"""A PostgreSQL project whose password is in the credential store only: served, and the password
in no file of the launcher's and in no command line.

Runs when LAUNCHER_TEST_POSTGRES names a superuser URL of a running server; the test works as a
role of its own with a password of its own, so finding it anywhere means it leaked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from launcher.model import credentials
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest, spawn
from launcher.server.checks import doctor
from launcher.server.process import MlflowServer
from tests.conftest import EXPERIMENTS
from tests.server.helpers import tree
from tests.started import link

ADMIN_URL = os.environ.get("LAUNCHER_TEST_POSTGRES", "")
pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(not ADMIN_URL, reason="LAUNCHER_TEST_POSTGRES is not set (no PostgreSQL)"),
]
STORES = Path(__file__).parents[1] / "stores.py"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def own_database() -> Iterator[tuple[str, str]]:
    """(the URL without a password, the password) of a new database owned by a new role."""
    tag = uuid.uuid4().hex[:10]
    role, name, password = f"kr_{tag}", f"launcher_kr_{tag}", f"pw-{uuid.uuid4().hex}"
    _admin(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    _admin(f"CREATE DATABASE {name} OWNER {role}")
    host = ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql://{role}@{host}/{name}", password
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"DROP ROLE IF EXISTS {role}")


def test_a_password_in_the_keyring_only_serves_postgres(
    own_database: tuple[str, str],
    keyring_file: Path,
    paths: AppPaths,
    app_home: Path,
    servers: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psycopg

    bare, password = own_database
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(psycopg.OperationalError):  # the server does ask for it
        psycopg.connect(bare, connect_timeout=10).close()
    full = credentials.with_password(bare, password)
    subprocess.run([sys.executable, str(STORES), "uri", full, *EXPERIMENTS], check=True,
                   capture_output=True, timeout=300)  # fmt: skip

    # A config from before the credential store: the password moves there on the first load.
    ConfigStore(paths).save(Config(projects=[Project("PG", full)]))
    project = ConfigStore(paths).load().config.get("PG")
    assert project.store == bare
    assert credentials.password_for(bare) == password

    seen: list[list[str]] = []
    real_run = spawn.run

    def recording_run(argv: list[str], *args: object, **kwargs: object) -> object:
        seen.append(list(argv))
        return real_run(argv, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(spawn, "run", recording_run)
    server = MlflowServer(project, paths)
    servers.append(server)
    server.start()
    assert rest.is_healthy(link(server), timeout=10)
    assert set(EXPERIMENTS) <= {e["name"] for e in rest.search_experiments(link(server))}
    assert seen and all(password not in " ".join(argv) for argv in seen)  # the schema read

    pid = server.pid
    assert pid is not None
    pids = tree(pid)
    assert pids
    for each in pids:
        assert password not in " ".join(psutil.Process(each).cmdline())
    assert psutil.Process(pid).environ().get("PGPASSWORD") == password  # how it got there

    report = doctor.diagnose(project, paths)
    assert report.ok, report.format()
    assert password not in report.format()
    server.stop()

    files = [p for p in app_home.rglob("*") if p.is_file()]
    assert paths.config_file in files and server.log_path in files
    leaked = [p for p in files if password.encode() in p.read_bytes()]
    assert not leaked
