"""The servers a test started (the ``servers`` fixture), and their keys for its own requests."""

from __future__ import annotations

import urllib.parse
from typing import Any


def link(server: Any, path: str = "") -> str:
    """A started server's URL (and ``path`` on it) carrying its key, as the launcher calls it."""
    from launcher.server.access_key import with_key

    return with_key((server.url or "") + path, server.access_key)


class Servers(list):  # type: ignore[type-arg]
    """Servers a test started, and their keys for the test's own requests.

    The launcher hands a server's key only to what it opens or calls through the server's link
    (``ServerManager.link``); a test talking to a server by its plain URL asks here.
    """

    def key(self, url: str) -> str | None:
        """The access key of the started server that serves ``url`` (None: it has none)."""
        origin = urllib.parse.urlsplit(url)[:2]
        for server in self:
            if server.url and urllib.parse.urlsplit(server.url)[:2] == origin:
                return server.access_key  # type: ignore[no-any-return]
        return None

    def link(self, url: str) -> str:
        """``url`` carrying its server's key: what the launcher's REST helpers take."""
        from launcher.server.access_key import with_key

        return with_key(url, self.key(url))

    def headers(self, url: str) -> dict[str, str]:
        """A request's header with its server's key."""
        key = self.key(url)
        return {"Authorization": f"Bearer {key}"} if key else {}
