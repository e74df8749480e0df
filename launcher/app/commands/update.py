"""``mlflow-launcher update [--check] [--feed FEED]``: a newer release, from the command line.

``--check`` only reads the feed; exit 0 when this is the newest version, 3 when a newer one is
there, 1 when the feed could not be read. Without it, the newer release is downloaded, its
SHA-256 (and signature, when signed) checked, and the installer's silent upgrade started: it
asks the running tray to quit, replaces the program and starts the new version.
"""

from __future__ import annotations

import argparse
import sys
import time

from launcher import __version__
from launcher.app.commands.common import EXIT_FAIL, EXIT_OK, err
from launcher.model.config import ConfigStore
from launcher.model.updates import FeedError
from launcher.updates import feed, updater
from launcher.updates.download import DownloadFailed
from launcher.updates.installer import CannotInstall
from launcher.updates.signature import SignatureRefused

EXIT_NEWER = 3
"""``update --check``: a newer release is there (0: this is the newest, 1: failed)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "update",
        help="install a newer release from the update feed (--check: only look)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--check", action="store_true", help="only say whether a newer release is there")
    p.add_argument(
        "--feed",
        metavar="URL_OR_FOLDER",
        help="the feed to read: a folder (a share), an http(s) URL holding SHA256SUMS and "
        "the setup.exe, or github:OWNER/REPO (default: the settings', else GitHub's)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    source = args.feed or updater.choices(store.load().config.settings).feed
    try:
        offer = feed.check(source, __version__)
    except FeedError as exc:
        err(f"error: the update feed {source} could not be read: {exc}")
        return EXIT_FAIL
    if offer is None:
        print(f"MLflow Launcher {__version__} is the newest version ({source}).", flush=True)
        return EXIT_OK
    version = offer.release.version
    if args.check:
        print(f"MLflow Launcher {version} is available (this is {__version__}).", flush=True)
        return EXIT_NEWER
    print(f"Downloading MLflow Launcher {version} from {source} ...", flush=True)
    try:
        verdict = updater.install(offer, store.paths, _Progress())
    except (CannotInstall, DownloadFailed, SignatureRefused) as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    print(f"Installer checked: SHA-256 matches; {verdict}.", flush=True)
    print(
        f"Installing {version}: MLflow Launcher quits now and starts again when it is done.",
        flush=True,
    )
    return EXIT_OK


class _Progress:
    """A percentage on stderr, at most twice a second (it may be a pipe: no carriage returns)."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.5 and done != total:
            return
        self._last = now
        size = f"{done / 2**20:.1f} MB"
        share = f" ({100 * done // total} %)" if total else ""
        print(f"  {size}{share}", file=sys.stderr, flush=True)
