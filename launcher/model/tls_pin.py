"""A team server's certificate, pinned on first use: where each pin lives and what a change means.

A team server speaks HTTPS, usually with a self-signed certificate that no PC trusts by itself.
A colleague's launcher keeps the certificate it was shown the first time (trust on first use,
as ssh does with host keys), one PEM file per ``host:port`` in the data dir, and from then on
accepts that certificate only. The same file is what scripts pass to MLflow as
``MLFLOW_TRACKING_SERVER_CERT_PATH``. Pure: file names, fingerprints and the refusal's words.
"""

from __future__ import annotations

import hashlib
import re
import ssl
import urllib.parse
from pathlib import Path

from launcher.model import atomic
from launcher.model.paths import AppPaths

CERT_PATH_VAR = "MLFLOW_TRACKING_SERVER_CERT_PATH"
"""Where MLflow's client (``requests``) reads the certificate to trust for a tracking server."""


class CertificateChanged(Exception):
    """The server shows another certificate than the one pinned; the message is for the user."""


def fingerprint(pem: str) -> str:
    """The certificate's SHA-256 fingerprint as browsers show it: ``AB:CD:...``."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def origin(url: str) -> tuple[str, int] | None:
    """An https URL's host and port (443 by default); None for any other URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return parts.hostname.lower(), parts.port or 443


def pin_path(paths: AppPaths, host: str, port: int) -> Path:
    safe = re.sub(r"[^a-z0-9.-]+", "_", host.lower()).strip("_") or "host"
    return paths.data_dir / "tls-pins" / f"{safe}_{port}.pem"


def pinned(paths: AppPaths, host: str, port: int) -> str | None:
    """The PEM pinned for ``host:port``, or None before the first use."""
    try:
        return pin_path(paths, host, port).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def pin(paths: AppPaths, host: str, port: int, pem: str) -> Path:
    path = pin_path(paths, host, port)
    atomic.write_text(path, pem)
    return path


def check(paths: AppPaths, host: str, port: int, shown_pem: str) -> None:
    """Refuse a certificate other than the pinned one, saying what to do about it."""
    kept = pinned(paths, host, port)
    if kept is None or fingerprint(kept) == fingerprint(shown_pem):
        return
    raise CertificateChanged(
        f"The server at {host}:{port} shows a different certificate than the one this launcher "
        f"pinned on first use (pinned SHA-256 {fingerprint(kept)}, shown "
        f"{fingerprint(shown_pem)}). Nothing was sent to it. If its admin made a new "
        f"certificate, compare the fingerprint the team server printed, then delete "
        f"{pin_path(paths, host, port)} to trust the new one; otherwise something between you "
        "and the server is impersonating it."
    )
