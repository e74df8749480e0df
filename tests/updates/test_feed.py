"""Reading a feed: a folder, http on 127.0.0.1, and GitHub's release JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model.updates import FeedError
from launcher.updates import feed
from tests.updates.feeds import INSTALLER, make_feed, served


def test_a_folder_feed_offers_its_newest_installer(tmp_path: Path) -> None:
    make_feed(tmp_path / "releases")
    offer = feed.check(str(tmp_path / "releases"), "0.1.0")
    assert offer is not None
    assert offer.release.version == "9.9.9"
    assert offer.location == str(tmp_path / "releases" / INSTALLER)


def test_a_file_url_is_a_folder_feed(tmp_path: Path) -> None:
    make_feed(tmp_path)
    offer = feed.read((tmp_path).as_uri())
    assert offer.location == str(tmp_path / INSTALLER)


def test_nothing_is_offered_when_this_is_the_newest(tmp_path: Path) -> None:
    make_feed(tmp_path)
    assert feed.check(str(tmp_path), "9.9.9") is None
    assert feed.check(str(tmp_path), "10.0") is None


def test_an_http_feed_offers_the_same(tmp_path: Path) -> None:
    make_feed(tmp_path)
    with served(tmp_path) as url:
        offer = feed.check(url + "/", "0.1.0")
    assert offer is not None
    assert offer.location == f"{url}/{INSTALLER}"


def test_unreadable_feeds_say_why(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="could not be read"):
        feed.read(str(tmp_path / "missing"))
    with served(tmp_path) as url, pytest.raises(FeedError, match="404"):
        feed.read(url)
    with pytest.raises(FeedError, match="could not be reached"):
        feed.read("http://127.0.0.1:9/feed", timeout=2)


@pytest.mark.parametrize(
    ("text", "repo"),
    [
        ("github:acme/mlflow-launcher", "acme/mlflow-launcher"),
        ("https://github.com/acme/mlflow-launcher", "acme/mlflow-launcher"),
        ("https://github.com/acme/mlflow-launcher/releases", "acme/mlflow-launcher"),
        ("https://github.com/acme/mlflow-launcher.git", "acme/mlflow-launcher"),
        ("https://example.com/acme/x", None),
        (r"\\server\share\releases", None),
    ],
)
def test_github_feeds_are_recognised(text: str, repo: str | None) -> None:
    assert feed.github_repo(text) == repo


def test_github_release_assets_are_read_by_name() -> None:
    release = {
        "tag_name": "v0.2.0",
        "assets": [
            {"name": "SHA256SUMS", "browser_download_url": "https://dl/SHA256SUMS"},
            {"name": "MLflowLauncher-0.2.0-setup.exe", "browser_download_url": "https://dl/s"},
            {"name": 3},
        ],
    }
    assert feed.github_assets(release) == {
        "SHA256SUMS": "https://dl/SHA256SUMS",
        "MLflowLauncher-0.2.0-setup.exe": "https://dl/s",
    }
    with pytest.raises(FeedError):
        feed.github_assets({"message": "Not Found"})
