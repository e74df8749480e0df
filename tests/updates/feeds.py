"""Update feeds for the tests: a folder holding a stand-in installer and its SHA256SUMS, and the
same folder served over http on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALLER = "MLflowLauncher-9.9.9-setup.exe"


def make_feed(folder: Path, *, size: int = 600_000, wrong_sum: bool = False) -> bytes:
    """A feed offering 9.9.9 (newer than any version under test); returns the installer's bytes.
    ``wrong_sum``: SHA256SUMS lists another digest, as a broken or tampered feed would."""
    folder.mkdir(parents=True, exist_ok=True)
    data = b"MZ" + bytes(range(256)) * (size // 256)
    (folder / INSTALLER).write_bytes(data)
    digest = hashlib.sha256(data + (b"x" if wrong_sum else b"")).hexdigest()
    older = hashlib.sha256(b"old").hexdigest()
    (folder / "SHA256SUMS").write_text(
        f"{older}  MLflowLauncher-0.0.1-setup.exe\n{digest}  {INSTALLER}\n", "utf-8"
    )
    return data


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` over http on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:
        return super().translate_path(path.removeprefix("/feed"))

    def log_message(self, format: str, *args: object) -> None:
        pass
