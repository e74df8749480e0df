"""Picking a port for a server: one nothing listens on right now.

The server binds it itself and reports a lost race (another program took it meanwhile), and
the start then tries another: no log line is parsed and port 5000 is never assumed.
"""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, on ``host``'s address family."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host if host not in ("0.0.0.0", "::") else "", 0))
        return int(sock.getsockname()[1])
