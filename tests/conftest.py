"""Shared fixtures. Every test runs with MLFLOW_LAUNCHER_HOME in a temp folder: no test can
touch the real user config."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.model.paths import AppPaths, app_paths
from tests.started import Servers

# Every Qt object in the tests lives offscreen; the Xvfb end-to-end test gives its child process
# a display of its own.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

EXPERIMENTS = [
    "dra_train_001_baseline",
    "dra_train_002_bigger_lr",
    "dra_eval_001_holdout",
    "other_train_001_x",
    "scratch notes",
]


@pytest.fixture(autouse=True)
def _gc_in_the_main_thread_only() -> Iterator[None]:
    """Python's cyclic GC runs in whichever thread allocates; collecting a Qt object from a
    worker thread crashes Qt, at random and later. As in the app (launcher.ui.common.collector), the
    tests collect in the main thread only, for every test that might create Qt objects
    (tests/server/test_manager.py included)."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "launcher-home"
    monkeypatch.setenv("MLFLOW_LAUNCHER_HOME", str(home))
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_PORT", "MLFLOW_BACKEND_STORE_URI"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def no_credential_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches the real OS credential store: by default there is none (keyring's fail
    backend: passwords stay in the config, as before); tests/model/test_credentials.py's
    ``keyring_file`` fixture gives one."""
    from launcher.model import credentials

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    credentials.reset()
    yield


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A credential store for the test: keyrings.alt's plaintext file keyring, its file under
    tmp_path (keyring's data root is XDG_DATA_HOME/python_keyring), never the user's real one."""
    import keyring

    from launcher.model import credentials

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    credentials.reset()
    path = Path(keyring.get_keyring().file_path)  # type: ignore[attr-defined]
    assert path.is_relative_to(tmp_path), path
    assert credentials.available()
    return path


@pytest.fixture
def paths(app_home: Path) -> AppPaths:
    return app_paths()


def _make_store(kind: str, dest: Path, names: list[str]) -> None:
    script = Path(__file__).with_name("stores.py")
    subprocess.run(
        [sys.executable, str(script), kind, str(dest), *names],
        check=True,
        capture_output=True,
        timeout=180,
    )


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("store-templates")
    folder = root / "mlruns"
    sqlite = root / "mlflow.db"
    _make_store("folder", folder, EXPERIMENTS)
    _make_store("sqlite", sqlite, EXPERIMENTS)
    return {"folder": folder, "sqlite": sqlite}


@pytest.fixture
def folder_store(store_templates: dict[str, Path], tmp_path: Path) -> Path:
    dest = tmp_path / "share" / "mlruns"
    shutil.copytree(store_templates["folder"], dest)
    return dest


@pytest.fixture
def sqlite_store(store_templates: dict[str, Path], tmp_path: Path) -> Path:
    dest = tmp_path / "share" / "mlflow.db"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(store_templates["sqlite"], dest)
    return dest


@pytest.fixture
def servers() -> Iterator[Servers]:
    """Servers a test started; all stopped at the end even when the test fails."""
    started = Servers()
    yield started
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def rich_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/rich_store.py's store: deleted experiment, nested runs, histories, a registry."""
    dest = tmp_path_factory.mktemp("rich-template") / "mlruns"
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("rich_store.py")), str(dest)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return dest


@pytest.fixture(scope="session")
def rich_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/rich_store.py's records written by the client into a SQLite store (artifacts in
    ``mlruns/`` beside it)."""
    folder = tmp_path_factory.mktemp("rich-sqlite")
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("rich_store.py")),
         f"sqlite:///{folder / 'store.db'}"],
        cwd=folder, check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / "store.db"


@pytest.fixture
def rich_store(rich_template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "share" / "rich" / "mlruns"
    shutil.copytree(rich_template, dest)
    return dest
