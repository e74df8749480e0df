"""Fetch an offered installer and prove it is the file the feed lists, before anything runs it.

The file is written as ``<name>.part`` and renamed only once its SHA-256 matches, so a broken or
cancelled download never leaves an installer that looks complete. The digest guards against a
broken download or share copy; a tampered feed is what the Authenticode check
(:mod:`launcher.updates.signature`) is for, when releases are signed.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Callable, Iterator
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


@contextlib.contextmanager
def _source(location: str) -> Iterator[tuple[Any, int]]:
    """(a readable stream, its size or 0) for a URL or a file path, closed afterwards."""
    if location.lower().startswith(("http://", "https://")):
        with open_url(location) as response:
            yield response, int(response.headers.get("Content-Length") or 0)
        return
    path = Path(location)
    with path.open("rb") as stream:
        yield stream, path.stat().st_size
