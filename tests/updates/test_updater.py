"""One update end to end, with the Windows installer stood in for: nothing runs that failed a
check, and nothing is downloaded for a copy that cannot be upgraded."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model.config import Settings
from launcher.model.paths import AppPaths
from launcher.model.updates import DEFAULT_FEED
from launcher.updates import feed, updater
from launcher.updates.download import DownloadFailed
from launcher.updates.installer import CannotInstall
from launcher.updates.signature import SignatureRefused
from tests.updates.feeds import INSTALLER, make_feed
from tests.updates.test_signature import pe


def test_a_verified_installer_is_started(paths: AppPaths, tmp_path: Path) -> None:
    make_feed(tmp_path / "feed")
    started: list[Path] = []
    verdict = updater.install(
        feed.read(str(tmp_path / "feed")), paths, why_not=lambda: None, start=started.append
    )
    assert started == [updater.download_folder(paths) / INSTALLER]
    assert "not signed" in verdict


def test_a_copy_that_cannot_be_upgraded_downloads_nothing(paths: AppPaths, tmp_path: Path) -> None:
    make_feed(tmp_path / "feed")
    with pytest.raises(CannotInstall, match="pip"):
        updater.install(
            feed.read(str(tmp_path / "feed")), paths, why_not=lambda: "use pip", start=_never
        )
    assert not updater.download_folder(paths).exists()


def test_a_wrong_checksum_runs_nothing(paths: AppPaths, tmp_path: Path) -> None:
    make_feed(tmp_path / "feed", wrong_sum=True)
    with pytest.raises(DownloadFailed):
        updater.install(
            feed.read(str(tmp_path / "feed")), paths, why_not=lambda: None, start=_never
        )


def test_an_unsigned_update_to_a_signed_launcher_runs_nothing(
    paths: AppPaths, tmp_path: Path
) -> None:
    make_feed(tmp_path / "feed")
    offer = feed.read(str(tmp_path / "feed"))
    ours = pe(tmp_path / "MLflowLauncher.exe", signed=True)
    with pytest.raises(SignatureRefused):
        updater.install(offer, paths, why_not=lambda: None, start=_never, ours=ours)
    assert not (updater.download_folder(paths) / INSTALLER).exists()


def test_off_windows_the_reason_is_pip() -> None:
    from launcher.updates.installer import why_not_installable

    assert "pip install -U mlflow-launcher" in (why_not_installable() or "")


def test_choices_default_to_asking_and_github() -> None:
    assert updater.choices(Settings()) == updater.Choices("ask", DEFAULT_FEED)
    assert updater.choices(Settings(updates="off", update_feed="/x")) == updater.Choices(
        "off", "/x"
    )


def _never(path: Path) -> None:
    raise AssertionError(f"the installer must not run: {path}")
