"""One update, start to end, shared by ``mlflow-launcher update`` and the tray's "Update to".

Order matters: first whether this copy can be upgraded at all (no 80 MB download to then
refuse), then the download and its SHA-256, then the signature, and only then the installer.
A failure at any step leaves the installed version as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from launcher.model.config import Settings
from launcher.model.paths import AppPaths
from launcher.model.updates import effective_feed, effective_policy
from launcher.updates import installer, signature
from launcher.updates.download import Progress, download
from launcher.updates.feed import Offer


@dataclass(frozen=True)
class Choices:
    """Whether checks are allowed ('ask'/'on'/'off') and which feed, all sources merged."""

    policy: str
    feed: str


def choices(settings: Settings) -> Choices:
    recorded_policy, recorded_feed = installer.recorded_choices()
    return Choices(
        effective_policy(settings.updates, recorded_policy),
        effective_feed(settings.update_feed, recorded_feed),
    )


def download_folder(paths: AppPaths) -> Path:
    return paths.data_dir / "updates"


def install(
    offer: Offer,
    paths: AppPaths,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    *,
    why_not: Callable[[], str | None] | None = None,
    start: Callable[[Path], None] | None = None,
    ours: Path | None = None,
) -> str:
    """Download, verify and start the silent upgrade; returns what the signature check found.

    Raises installer.CannotInstall, download.DownloadFailed or signature.SignatureRefused.
    ``why_not``/``start``/``ours`` stand in for the Windows installer where there is none."""
    reason = (why_not or installer.why_not_installable)()
    if reason is not None:
        raise installer.CannotInstall(reason)
    setup = download(offer, download_folder(paths), progress, cancelled)
    try:
        verdict = signature.check(setup, ours)
    except signature.SignatureRefused:
        setup.unlink(missing_ok=True)
        raise
    (start or installer.start)(setup)
    return verdict
