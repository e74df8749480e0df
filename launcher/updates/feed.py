"""Read an update feed: a folder, an http(s) URL, or a project's GitHub releases.

Every kind comes down to one ``SHA256SUMS`` text and a way to reach each file it lists, so the
rest of the update (pick the newest, download, compare the digest) is the same for all three.
Reading a feed is the launcher's only traffic beyond loopback, and happens only when the user
allowed update checks (or ran ``update`` themselves).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher import __version__
from launcher.model.updates import (
    SUMS_NAME,
    FeedError,
    Release,
    is_newer,
    newest_release,
    parse_sums,
)

TIMEOUT = 20.0
"""Seconds for one request: a feed on a slow share or behind a proxy still answers in this."""
GITHUB_API = "https://api.github.com/repos/{repo}/releases/latest"
USER_AGENT = f"mlflow-launcher/{__version__}"


@dataclass(frozen=True)
class Offer:
    """The newest release a feed holds and where its installer is (a URL or a file path)."""

    release: Release
    location: str
    feed: str


def read(feed: str, timeout: float = TIMEOUT) -> Offer:
    """The newest release ``feed`` offers (newer or not); FeedError says why when it can't."""
    repo = github_repo(feed)
    if repo is not None:
        assets = github_assets(_json(GITHUB_API.format(repo=repo), timeout))
        if SUMS_NAME not in assets:
            raise FeedError(f"the latest release of {repo} has no {SUMS_NAME}")
        release = newest_release(parse_sums(_text(assets[SUMS_NAME], timeout)))
        if release.installer not in assets:
            raise FeedError(f"the latest release of {repo} has no {release.installer}")
        return Offer(release, assets[release.installer], feed)
    if re.match(r"^https?://", feed, re.IGNORECASE):
        base = feed.rstrip("/")
        release = newest_release(parse_sums(_text(f"{base}/{SUMS_NAME}", timeout)))
        return Offer(release, f"{base}/{urllib.parse.quote(release.installer)}", feed)
    folder = Path(_file_path(feed))
    try:
        text = (folder / SUMS_NAME).read_text("utf-8", "replace")
    except OSError as exc:
        raise FeedError(f"{folder / SUMS_NAME} could not be read ({exc.strerror or exc})") from exc
    release = newest_release(parse_sums(text))
    return Offer(release, str(folder / release.installer), feed)


def check(feed: str, current: str = __version__, timeout: float = TIMEOUT) -> Offer | None:
    """The feed's newest release when it is newer than ``current``, else None."""
    offer = read(feed, timeout)
    return offer if is_newer(offer.release.version, current) else None


def github_repo(feed: str) -> str | None:
    """``owner/name`` for ``github:owner/name`` or ``https://github.com/owner/name[/releases]``."""
    match = re.match(
        r"^(?:github:|https?://github\.com/)([\w.-]+/[\w.-]+?)(?:\.git)?(?:/releases.*)?/?$",
        feed.strip(),
        re.IGNORECASE,
    )
    return match.group(1) if match else None


def github_assets(release: Any) -> dict[str, str]:
    """{asset name: download URL} of a GitHub API release object."""
    if not isinstance(release, dict) or not isinstance(release.get("assets"), list):
        raise FeedError("GitHub's answer is not a release")
    return {
        a["name"]: a["browser_download_url"]
        for a in release["assets"]
        if isinstance(a, dict)
        and isinstance(a.get("name"), str)
        and isinstance(a.get("browser_download_url"), str)
    }


def open_url(url: str, timeout: float = TIMEOUT) -> Any:
    """A response for ``url`` (the system's proxy settings apply: a feed is not on loopback)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise FeedError(f"{url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedError(f"{url} could not be reached ({reason})") from exc


def _text(url: str, timeout: float) -> str:
    with open_url(url, timeout) as response:
        data: bytes = response.read(1 << 20)  # a SHA256SUMS is a few lines
    return data.decode("utf-8", "replace")


def _json(url: str, timeout: float) -> Any:
    try:
        return json.loads(_text(url, timeout))
    except json.JSONDecodeError as exc:
        raise FeedError(f"{url} did not answer JSON") from exc


def _file_path(feed: str) -> str:
    """A folder feed as a path: ``file://`` URLs included (``file://server/share/...`` is UNC)."""
    if not feed.lower().startswith("file:"):
        return feed
    parts = urllib.parse.urlsplit(feed)
    path = urllib.request.url2pathname(parts.path)
    return f"//{parts.netloc}{path}" if parts.netloc else path
