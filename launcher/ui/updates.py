"""The tray's side of updates: ask once, check at most daily, offer "Update to X.Y.Z", install.

Only an installed Windows copy (setup.exe put it there) takes part: a pip install updates with
pip, a portable copy by unpacking. Feed reads and downloads run in worker threads (a feed on an
offline share may hang); a failed check is logged and tried again an hour later, without a
notification (nobody wants to hear about an unreachable feed every day). Installing downloads
with progress and a Cancel, checks the SHA-256 and the signature, then starts the installer's
silent upgrade, which asks this tray to quit through the single-instance channel (the path the
installer always uses, so the servers are stopped before any file is replaced) and starts the
new version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from launcher import __version__
from launcher.model.config import Config, Settings
from launcher.model.paths import AppPaths
from launcher.model.updates import POLICY_ASK, POLICY_OFF, POLICY_ON, check_due
from launcher.server.signals import emit
from launcher.ui.common.workers import run_in_thread, run_with_progress
from launcher.updates import installer

if TYPE_CHECKING:
    from launcher.updates.feed import Offer

log = logging.getLogger(__name__)

FIRST_CHECK_MS = 60_000
"""After start: the tray and its warm host come first."""
TICK_MS = 3_600_000
"""How often to see whether the daily check is due (and to retry a failed one)."""


@dataclass(frozen=True)
class UpdateOffer:
    """What the menu shows of an offer: "Update to ``version``", greyed while ``installing``."""

    version: str
    installing: bool = False


def ask_allowed(feed_name: str) -> bool:
    """The one question, asked once: may the launcher look for new versions?"""
    answer = QMessageBox.question(
        None,
        "MLflow Launcher updates",
        "Check for new versions of MLflow Launcher once a day?\n\n"
        f'It reads {feed_name}. Nothing is installed until you choose "Update to …" in the '
        "menu. You can change this in Settings.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class Updates(QObject):
    """The update offer the menu shows, kept fresh once a day while allowed."""

    changed = Signal()
    """An offer appeared (or went): the menu shows "Update to X.Y.Z"."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Callable[[], Settings],
        update_config: Callable[[Callable[[Config], None]], Config],
        notify: SignalInstance,
        *,
        applies: bool | None = None,
        ask: Callable[[str], bool] = ask_allowed,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self._settings = settings
        self._update_config = update_config
        self._notify = notify
        self.applies = installer.installed_by_setup() if applies is None else applies
        self._ask = ask
        self.offer: Offer | None = None
        self.checking = False
        self.installing = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        """Called once the tray shows: ask (the first time) and schedule the daily check."""
        if not self.applies:
            return
        QTimer.singleShot(FIRST_CHECK_MS, self.tick)
        self._timer.start(TICK_MS)

    def tick(self) -> None:
        from launcher.updates import updater  # with feed: the HTTP stack, only where it applies

        choices = updater.choices(self._settings())
        if choices.policy == POLICY_ASK:
            allowed = self._ask(choices.feed)
            self._set_policy(POLICY_ON if allowed else POLICY_OFF)
            if not allowed:
                return
        elif choices.policy == POLICY_OFF:
            return
        if check_due(self._settings().last_update_check, time.time()):
            self.check_now()

    def _set_policy(self, policy: str) -> None:
        def change(config: Config) -> None:
            config.settings.updates = policy

        self._update_config(change)

    def check_now(self) -> None:
        if self.checking:
            return
        from launcher.updates import feed, updater

        self.checking = True
        source = updater.choices(self._settings()).feed
        run_in_thread(
            lambda: feed.check(source, __version__),
            self._checked,
            self._check_failed,
            owner=self,
            name="update-check",
        )

    def _checked(self, offer: Offer | None) -> None:
        self.checking = False

        def change(config: Config) -> None:
            config.settings.last_update_check = time.time()

        self._update_config(change)
        was = self.offer
        self.offer = offer
        if offer is not None and (was is None or was.release != offer.release):
            log.info("update %s offered by %s", offer.release.version, offer.feed)
            emit(self._notify, f"MLflow Launcher {offer.release.version} is available",
                 "Choose \"Update to …\" in the menu to install it.", "info", "")  # fmt: skip
        if was != offer:
            emit(self.changed)

    def _check_failed(self, exc: BaseException) -> None:
        self.checking = False
        log.warning("update check failed (tried again within the hour): %s", exc)

    def install(self) -> None:
        """Download with progress, verify, and hand over to the installer."""
        offer = self.offer
        if offer is None or self.installing:
            return
        self.installing = True
        stop = threading.Event()
        dialog = QProgressDialog(
            f"Downloading MLflow Launcher {offer.release.version} …", "Cancel", 0, 100
        )
        dialog.setWindowTitle("MLflow Launcher update")
        dialog.setObjectName("update-progress")
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(stop.set)
        dialog.show()

        from launcher.updates import updater

        def work(report: Callable[[Any], None]) -> str:
            return updater.install(
                offer, self.paths, lambda done, total: report((done, total)), stop.is_set
            )

        def progress(payload: Any) -> None:
            done, total = payload
            dialog.setValue(int(100 * done / total) if total else 0)

        def done(verdict: str) -> None:
            dialog.close()
            log.info("installer of %s started (%s)", offer.release.version, verdict)
            emit(self._notify, f"Installing MLflow Launcher {offer.release.version}",
                 "It restarts when the installer is done.", "info", "")  # fmt: skip

        def failed(exc: BaseException) -> None:
            cancelled = stop.is_set()  # before close(): closing the dialog emits canceled
            dialog.close()
            self.installing = False
            log.warning("update not installed: %s", exc)
            if not cancelled:
                emit(self._notify, "The update was not installed",
                     f"{exc} The installed version is unchanged.", "error", "")  # fmt: skip

        run_with_progress(work, progress, done, failed, owner=self, name="update-install")
