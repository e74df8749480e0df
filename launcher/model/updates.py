"""What an update feed offers and whether to take it: pure rules, no network, no Qt.

A feed is a folder (a share, for a company without internet), an http(s) URL, or the project's
GitHub releases. All three hold the same two files a release build writes
(``build/windows.sh package``): ``MLflowLauncher-<version>-setup.exe`` and ``SHA256SUMS``. The
version is read from the installer's name as ``SHA256SUMS`` lists it, so a feed needs no index
file of its own; the newest listed installer wins.

Only a strictly newer version is offered (no rollback to an older release, even from a feed that
lists one), and checks happen at most once a day, only when the user allowed them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

DEFAULT_FEED = "github:mlflow-launcher/mlflow-launcher"
"""The project's GitHub releases: used when neither the settings nor the installer name a feed."""

SUMS_NAME = "SHA256SUMS"
INSTALLER_PATTERN = re.compile(r"^MLflowLauncher-(?P<version>\d[0-9A-Za-z.+-]*)-setup\.exe$")
CHECK_EVERY_SECONDS = 24 * 3600.0

POLICY_ASK, POLICY_ON, POLICY_OFF = "ask", "on", "off"
"""``Settings.updates``: not asked yet, allowed, declined."""


class FeedError(Exception):
    """A feed that could not be read or holds nothing usable; the message says which."""


@dataclass(frozen=True)
class Release:
    """One installer a feed offers: its version, file name and the SHA-256 the feed lists."""

    version: str
    installer: str
    sha256: str


def parse_sums(text: str) -> dict[str, str]:
    """``SHA256SUMS`` as ``sha256sum`` writes it (``<hex>  <name>`` or ``<hex> *<name>``):
    {name: lower-case hex}. Lines that are not such an entry are skipped."""
    sums: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^([0-9A-Fa-f]{64}) [ *](.+)$", line.strip())
        if match:
            sums[match.group(2).strip()] = match.group(1).lower()
    return sums


def parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest_release(sums: dict[str, str]) -> Release:
    """The highest-versioned installer ``SHA256SUMS`` lists; FeedError when it lists none."""
    found: list[tuple[Version, Release]] = []
    for name, digest in sums.items():
        match = INSTALLER_PATTERN.match(name)
        version = parse_version(match.group("version")) if match else None
        if match and version is not None:
            found.append((version, Release(match.group("version"), name, digest)))
    if not found:
        raise FeedError(f"its {SUMS_NAME} lists no MLflowLauncher-<version>-setup.exe")
    return max(found, key=lambda pair: pair[0])[1]


def is_newer(candidate: str, current: str) -> bool:
    """True only when ``candidate`` is a strictly higher version than ``current``."""
    new, old = parse_version(candidate), parse_version(current)
    return new is not None and old is not None and new > old


def check_due(last_check: float, now: float) -> bool:
    """At most one check a day (a clock set back counts as due, rather than never again)."""
    return not (0 <= now - last_check < CHECK_EVERY_SECONDS)


def effective_policy(setting: str, installer_choice: str | None) -> str:
    """The user's own answer wins; before they gave one, a silent install's ``/UPDATES=0|1``
    decides (``installer_choice`` 'on'/'off'), and otherwise the launcher asks once."""
    if setting in (POLICY_ON, POLICY_OFF):
        return setting
    if installer_choice in (POLICY_ON, POLICY_OFF):
        return installer_choice
    return POLICY_ASK


def effective_feed(setting: str, installer_feed: str | None) -> str:
    """The feed named in the settings, else the one the installer was given (``/FEED=``),
    else the project's GitHub releases."""
    return setting.strip() or (installer_feed or "").strip() or DEFAULT_FEED
