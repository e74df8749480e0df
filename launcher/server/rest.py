"""Tiny HTTP helpers for a server on this machine: readiness and the REST API.

Plain urllib with short timeouts and no proxies, since servers are on loopback and a proxy
setting (common on company PCs) must not intercept 127.0.0.1. A remote server with a login
(``http://USER@host:port``, a team server's basic-auth app) is sent it as a Basic header, the
password from the credential store (``launcher.model.credentials``), never in the URL.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from launcher.model import credentials, tls_pin
from launcher.server import access_key, tls

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _open(request: urllib.request.Request, timeout: float) -> Any:
    """Open ``request``; an https server is trusted by its pinned certificate only
    (:mod:`launcher.server.tls`), a self-signed one pinned on its first use."""
    context = tls.context_for(request.full_url)
    if context is None:
        return _opener.open(request, timeout=timeout)
    if not tls.has_pin(request.full_url):
        try:
            return _https_opener(context).open(request, timeout=timeout)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise
        tls.pin_on_first_use(request.full_url)
        context = tls.context_for(request.full_url)
    try:
        return _https_opener(context).open(request, timeout=timeout)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            tls.pin_on_first_use(request.full_url)  # CertificateChanged names the change
        raise


def _https_opener(context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )


def _request(url: str) -> urllib.request.Request:
    """A GET carrying its server's access key as a header, never in the URL it asks for.

    A keyed link's key (``?launcher_key=``) moves to the header: in the query string the
    server would answer with the cookie redirect meant for browsers.
    """
    plain, key = access_key.split_key(url)
    plain, login = _login(plain)
    if login:
        return urllib.request.Request(plain, headers=login)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return urllib.request.Request(plain, headers=headers)


def _login(url: str) -> tuple[str, dict[str, str]]:
    """A remote server's URL without its user (urllib would take it for the host) and the
    Basic header of that user, with the password the credential store keeps for the URL."""
    user = credentials.username(url)
    if not user or not credentials.is_remote(url):
        return url, {}
    secret = f"{user}:{_password(url) or ''}".encode()
    header = "Basic " + base64.b64encode(secret).decode("ascii")
    return credentials.without_userinfo(credentials.split(url)[0]), {"Authorization": header}


def _password(url: str) -> str | None:
    """The password kept for the server ``url`` is on: its key is the store's URL, which may
    have a path of its own (``http://USER@host/mlflow``), so the longest prefix that has one."""
    parts = urllib.parse.urlsplit(url)
    segments = parts.path.strip("/").split("/") if parts.path.strip("/") else []
    for end in range(len(segments), -1, -1):
        path = "/" + "/".join(segments[:end]) if end else ""
        found = credentials.password_for(f"{parts.scheme}://{parts.netloc}{path}")
        if found is not None:
            return found
    return None


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
        with _open(_request(url), timeout) as response:
            return response.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError, ValueError, tls_pin.CertificateChanged):
        return None


def is_healthy(base_url: str, timeout: float = 2.0) -> bool:
    return (get_text(_root(base_url) + "/health", timeout) or "").strip() == "OK"


WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
"""The header that picks a request's MLflow workspace (a server with workspaces on)."""


def get_json(url: str, timeout: float = 10.0, workspace: str = "") -> Any:
    request = _request(url)
    if workspace:
        request.add_header(WORKSPACE_HEADER, workspace)
    with _open(request, timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def post_api(
    base_url: str, path: str, body: dict[str, Any], timeout: float = 10.0, workspace: str = ""
) -> Any:
    """A POST of ``body`` as JSON to ``path`` (the REST API's searches), with the server's key
    or login, its pinned certificate and the workspace as a GET gets them."""
    request = _request(_api(base_url, path))
    request.data = json.dumps(body).encode("utf-8")
    request.add_header("Content-Type", "application/json")
    if workspace:
        request.add_header(WORKSPACE_HEADER, workspace)
    with _open(request, timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def search_experiments(
    base_url: str, timeout: float = 10.0, view_type: str = "ACTIVE_ONLY", workspace: str = ""
) -> list[dict[str, Any]]:
    """Every experiment the server knows (in ``workspace``, if given), following page tokens.

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
        data = get_json(url, timeout, workspace)
        experiments.extend(data.get("experiments", []))
        token = data.get("next_page_token", "")
        if not token:
            return experiments
