"""A real PostgreSQL store: served, and an old schema refused with the database untouched.

Runs when LAUNCHER_TEST_POSTGRES names a superuser URL of a running server (.ci/run starts one
and sets it); each test works in a database of its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server import rest
from launcher.server.checks import doctor
from launcher.server.checks.failures import Cause, ServerFailed
from launcher.server.process import MlflowServer
from tests.conftest import EXPERIMENTS
from tests.server import postgres
from tests.started import link

pytestmark = postgres.MARKS
STORES = Path(__file__).parents[1] / "stores.py"


def _revision(uri: str) -> str:
    import psycopg

    with psycopg.connect(uri) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0] if row else None)


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgres.scratch_database()


def _populate(uri: str) -> None:
    subprocess.run([sys.executable, str(STORES), "uri", uri, *EXPERIMENTS], check=True,
                   capture_output=True, timeout=300)  # fmt: skip


def test_postgres_store_is_served(database: str, paths: AppPaths, servers: list) -> None:
    _populate(database)
    revision = _revision(database)
    server = MlflowServer(Project("PG", database), paths)
    servers.append(server)
    server.start()
    assert set(EXPERIMENTS) <= {e["name"] for e in rest.search_experiments(link(server))}
    report = doctor.diagnose(Project("PG", database), paths)
    assert report.ok and report.experiments == len(EXPERIMENTS) + 1
    password = postgres.PASSWORD
    assert f":{password}@" not in report.format()  # shown redacted
    assert f":{password}@" not in server.log_path.read_text(encoding="utf-8")
    server.stop()
    assert _revision(database) == revision


def test_old_postgres_schema_is_refused_untouched(database: str, paths: AppPaths) -> None:
    _populate(database)
    subprocess.run([sys.executable, str(STORES), "downgrade", database, "3"], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    old = _revision(database)
    server = MlflowServer(Project("PG", database), paths)
    with pytest.raises(ServerFailed) as info:
        server.start()
    assert info.value.failure.cause is Cause.SCHEMA_OUTDATED
    assert "***" in info.value.failure.message or "launcher:" not in info.value.failure.message
    assert _revision(database) == old
    report = doctor.diagnose(Project("PG", database), paths)
    assert not report.ok and report.schema is not None
    assert report.schema.state.value == "older"


def test_unreachable_postgres_is_named(paths: AppPaths) -> None:
    server = MlflowServer(Project("PG", "postgresql://nobody:x@127.0.0.1:1/none"), paths)
    with pytest.raises(ServerFailed) as info:
        server.start()
    assert info.value.failure.cause is Cause.STORE_UNREACHABLE
