"""A team database's password, asked for once when the tray opens the project (test keyring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from launcher.model import catalog, credentials
from launcher.model.config import Config, ConfigStore
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.state import State
from launcher.ui.common.password_dialog import PasswordDialog, ask_if_missing
from tests.ui.fakes import FakeFactory
from tests.ui.helpers import make_controller, write_config

URL = "postgresql://me@db.example:5432/mlflow"


def _answer(password: str | None, seen: list[PasswordDialog]) -> None:
    """When the modal dialog shows: type ``password`` and Remember, or Cancel (None)."""

    def look() -> None:
        widgets = QApplication.topLevelWidgets()
        dialogs = [w for w in widgets if isinstance(w, PasswordDialog) and w.isVisible()]
        if not dialogs:
            return  # not shown yet: look again
        timer.stop()
        dialog = dialogs[0]
        seen.append(dialog)
        if password is None:
            dialog.reject()
        else:
            dialog.field.setText(password)
            dialog.remember.click()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(look)
    timer.start()
    _timers.append(timer)


_timers: list[QTimer] = []


@pytest.fixture
def opened(qtbot, paths: AppPaths, keyring_file: Path) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    write_config(paths, [Project("Team", URL)])
    factory = FakeFactory()
    controller = make_controller(paths, factory, [])
    yield controller, factory
    for timer in _timers:
        timer.stop()
    _timers.clear()
    assert controller.manager.stop_all(wait=True)


def test_the_dialog_stores_the_password_in_the_credential_store(qtbot, keyring_file: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = PasswordDialog(Project("Team", URL))
    qtbot.addWidget(dialog)
    assert dialog.field.echoMode() == dialog.field.EchoMode.Password
    assert "PlaintextKeyring" in dialog.remember.text()  # "Remember in <backend>"
    assert not dialog.remember.isEnabled()
    qtbot.keyClicks(dialog.field, "s3 cret")
    dialog.remember.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert credentials.password_for(URL) == "s3 cret"
    assert not credentials.missing_password(URL)


def test_a_refused_password_keeps_the_dialog_open_with_the_reason(qtbot) -> None:  # type: ignore[no-untyped-def]
    def refuse(url: str, password: str) -> None:
        raise credentials.CredentialError("the store is locked")

    dialog = PasswordDialog(Project("Team", URL), keep=refuse)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.field.setText("x")
    dialog.remember.click()
    assert dialog.isVisible()
    assert "locked" in dialog.problem.text()


def test_opening_asks_once_then_opens(qtbot, opened) -> None:  # type: ignore[no-untyped-def]
    controller, factory = opened
    seen: list[PasswordDialog] = []
    _answer("s3cret", seen)
    controller.open_project("Team")
    assert len(seen) == 1, "the project was opened without asking for its password"
    assert credentials.password_for(URL) == "s3cret"
    assert len(factory.of("Team")) == 1  # the open went on
    qtbot.waitUntil(lambda: controller.state("Team") is State.RUNNING, timeout=5000)
    controller.open_project("Team")  # stored now: no second question
    assert len(seen) == 1


def test_cancel_aborts_the_open_and_changes_nothing(  # type: ignore[no-untyped-def]
    qtbot, opened, paths: AppPaths, keyring_file: Path
) -> None:
    controller, factory = opened
    config_before = paths.config_file.read_bytes()
    keyring_before = keyring_file.read_bytes() if keyring_file.exists() else None
    seen: list[PasswordDialog] = []
    _answer(None, seen)
    controller.open_project("Team")
    assert len(seen) == 1
    assert factory.of("Team") == []
    assert credentials.password_for(URL) is None
    assert paths.config_file.read_bytes() == config_before
    assert (keyring_file.read_bytes() if keyring_file.exists() else None) == keyring_before


def test_nothing_is_asked_without_a_user_or_with_a_password(keyring_file: Path) -> None:
    for store in ("postgresql://db/mlflow", "postgresql://me:pw@db/mlflow", "/data/mlruns"):
        assert ask_if_missing(Project("P", store)) is True
    assert credentials.missing_password("https://me@mlflow.example")


def test_a_team_project_from_a_catalog_is_asked_for_too(  # type: ignore[no-untyped-def]
    qtbot, paths: AppPaths, keyring_file: Path, tmp_path: Path
) -> None:
    """The issue's case: the catalog carries no password, the colleague's first open asks."""
    shared = tmp_path / "team.json"
    catalog.write_export(shared, [Project("Shared", URL)])
    ConfigStore(paths).save(Config(catalogs=[str(shared)]))
    factory = FakeFactory()
    controller = make_controller(paths, factory, [])
    try:
        qtbot.waitUntil(lambda: controller.is_team("Shared"), timeout=5000)
        seen: list[PasswordDialog] = []
        _answer("team-pw", seen)
        controller.open_project("Shared")
        assert len(seen) == 1 and len(factory.of("Shared")) == 1
        assert credentials.password_for(URL) == "team-pw"
        assert "team-pw" not in paths.config_file.read_text("utf-8")
    finally:
        for timer in _timers:
            timer.stop()
        _timers.clear()
        assert controller.manager.stop_all(wait=True)
