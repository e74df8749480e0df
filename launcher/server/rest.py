"""Tiny HTTP helpers for a server on this machine: readiness and the REST API.

Plain urllib with short timeouts and no proxies, since servers are on loopback and a proxy
setting (common on company PCs) must not intercept 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from launcher.server import access_key

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(url: str) -> urllib.request.Request:
    """A GET carrying its server's access key as a header, never in the URL it asks for.

    A keyed link's key (``?launcher_key=``) moves to the header: in the query string the
    server would answer with the cookie redirect meant for browsers.
    """
    plain, key = access_key.split_key(url)
    headers = {"Authorization": f"Bearer {key}"} if key else access_key.headers_for(plain)
    return urllib.request.Request(plain, headers=headers)


def _root(base_url: str) -> str:
    """A server's base URL without the query or route a link may carry, and no trailing slash."""
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).rstrip("/")


def _api(base_url: str, path: str) -> str:
    """``path`` on the server at ``base_url``, keeping the key a keyed link carries."""
    return access_key.with_key(_root(base_url) + path, access_key.key_in(base_url))


def get_text(url: str, timeout: float = 2.0) -> str | None:
    """The body of a GET, or None when nothing (good) answered."""
    try:
        with _opener.open(_request(url), timeout=timeout) as response:
            return response.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError, ValueError):
        return None


def is_healthy(base_url: str, timeout: float = 2.0) -> bool:
    return (get_text(_root(base_url) + "/health", timeout) or "").strip() == "OK"


def get_json(url: str, timeout: float = 10.0) -> Any:
    with _opener.open(_request(url), timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def search_experiments(
    base_url: str, timeout: float = 10.0, view_type: str = "ACTIVE_ONLY"
) -> list[dict[str, Any]]:
    """Every experiment the server knows, following page tokens.

    ``view_type`` is MLflow's: ACTIVE_ONLY (the default), DELETED_ONLY or ALL.
    """
    experiments: list[dict[str, Any]] = []
    token = ""
    while True:
        query = {"max_results": "1000"}
        if view_type != "ACTIVE_ONLY":
            query["view_type"] = view_type
        if token:
            query["page_token"] = token
        url = _api(
            base_url, "/ajax-api/2.0/mlflow/experiments/search?" + urllib.parse.urlencode(query)
        )
        data = get_json(url, timeout)
        experiments.extend(data.get("experiments", []))
        token = data.get("next_page_token", "")
        if not token:
            return experiments
