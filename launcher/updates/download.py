"""Fetch an offered installer and prove it is the file the feed lists, before anything runs it.

The file is written as ``<name>.part`` and renamed only once its SHA-256 matches, so a broken or
cancelled download never leaves an installer that looks complete. The digest guards against a
broken download or share copy; a tampered feed is what the Authenticode check
(:mod:`launcher.updates.signature`) is for, when releases are signed.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from launcher.model.updates import FeedError
from launcher.updates.feed import Offer, open_url

CHUNK = 256 * 1024
Progress = Callable[[int, int], None]
"""(bytes so far, total bytes or 0 when unknown)."""


class DownloadFailed(Exception):
    """The installer could not be fetched, or it is not the file the feed lists."""


class Cancelled(DownloadFailed):
    pass


def download(
    offer: Offer,
    folder: Path,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """The verified installer in ``folder`` (older downloads there are removed first)."""
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / offer.release.installer
    part = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with _source(offer.location) as (stream, total), part.open("wb") as out:
            done = 0
            while chunk := stream.read(CHUNK):
                if cancelled is not None and cancelled():
                    raise Cancelled("the download was cancelled")
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (OSError, FeedError) as exc:
        part.unlink(missing_ok=True)
        raise DownloadFailed(f"{offer.release.installer} could not be downloaded: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    got = digest.hexdigest()
    if got != offer.release.sha256:
        part.unlink(missing_ok=True)
        raise DownloadFailed(
            f"{offer.release.installer} is not the file the feed lists: its SHA-256 is "
            f"{got[:16]}…, SHA256SUMS says {offer.release.sha256[:16]}… (nothing was installed)"
        )
    part.replace(target)
    return target


class _source:
    """(a readable stream, its size) for a URL or a file path, as a context manager."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._stream: Any = None

    def __enter__(self) -> tuple[Any, int]:
        if self.location.lower().startswith(("http://", "https://")):
            response = open_url(self.location)
            self._stream = response
            return response, int(response.headers.get("Content-Length") or 0)
        path = Path(self.location)
        stream = path.open("rb")
        self._stream = stream
        return stream, path.stat().st_size

    def __exit__(self, *exc: object) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
