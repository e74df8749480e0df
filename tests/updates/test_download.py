"""Downloading an offered installer: kept only when its SHA-256 is the one the feed lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.updates import feed
from launcher.updates.download import Cancelled, DownloadFailed, download
from tests.updates.feeds import INSTALLER, make_feed, served


def test_a_download_over_http_is_verified_and_reports_progress(tmp_path: Path) -> None:
    data = make_feed(tmp_path / "feed")
    seen: list[tuple[int, int]] = []
    with served(tmp_path / "feed") as url:
        offer = feed.read(url)
        path = download(offer, tmp_path / "dl", lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "dl" / INSTALLER
    assert path.read_bytes() == data
    assert seen[-1] == (len(data), len(data))
    assert len(seen) > 1


def test_a_wrong_checksum_leaves_no_installer(tmp_path: Path) -> None:
    make_feed(tmp_path / "feed", wrong_sum=True)
    offer = feed.read(str(tmp_path / "feed"))
    with pytest.raises(DownloadFailed, match="not the file the feed lists"):
        download(offer, tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_a_cancelled_download_leaves_nothing(tmp_path: Path) -> None:
    make_feed(tmp_path / "feed")
    offer = feed.read(str(tmp_path / "feed"))
    with pytest.raises(Cancelled):
        download(offer, tmp_path / "dl", cancelled=lambda: True)
    assert list((tmp_path / "dl").iterdir()) == []


def test_an_installer_missing_from_the_feed_is_a_failed_download(tmp_path: Path) -> None:
    make_feed(tmp_path / "feed")
    offer = feed.read(str(tmp_path / "feed"))
    (tmp_path / "feed" / INSTALLER).unlink()
    with pytest.raises(DownloadFailed, match="could not be downloaded"):
        download(offer, tmp_path / "dl")


def test_older_downloads_are_cleared(tmp_path: Path) -> None:
    make_feed(tmp_path / "feed")
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "MLflowLauncher-0.0.1-setup.exe").write_bytes(b"old")
    download(feed.read(str(tmp_path / "feed")), tmp_path / "dl")
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [INSTALLER]
