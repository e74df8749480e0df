"""Qt tests run offscreen: no window ever appears, and no display is needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest

from launcher.ui.settings import python_picker
from launcher.ui.tray import experiments_menu
from tests import naming_stores
from tests.ui.rest_stub import RestStub


@pytest.fixture(autouse=True)
def _no_interpreter_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend discovery already ran: probing every Python on the machine is for one test only."""
    monkeypatch.setattr(python_picker, "_interpreters", [])


@pytest.fixture(autouse=True)
def _fresh_experiments_cache() -> Iterator[None]:
    """The submenu caches the last list read per server; no test may see another's."""
    experiments_menu.forget_cache()
    yield
    experiments_menu.forget_cache()


@pytest.fixture
def named(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    """Real stores whose experiments follow the naming convention (and some that do not)."""
    return naming_stores.stores(tmp_path_factory.getbasetemp(), tmp_path / "named")


@pytest.fixture
def rest(named: dict[str, Path]) -> Iterator[RestStub]:
    """A fake server answering with the folder store's experiments in MLflow's REST format."""
    stub = RestStub.of_store(named["folder"])
    yield stub
    stub.close()
