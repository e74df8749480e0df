"""The launcher's own REST calls to a remote server with a login: Basic auth, never in the URL."""

from __future__ import annotations

import base64
from pathlib import Path

from launcher.model import credentials
from launcher.server import rest


def _login(url: str) -> tuple[str, str]:
    request = rest._request(url)
    header = request.headers.get("Authorization", "")
    assert header.startswith("Basic "), header
    return request.full_url, base64.b64decode(header[6:]).decode()


def test_a_remote_login_goes_in_a_basic_header(keyring_file: Path) -> None:
    credentials.store_password("http://alice@team.example:5000/mlflow", "s3cret-pass-123")
    url, login = _login("http://alice@team.example:5000/mlflow/ajax-api/2.0/mlflow/x?a=1")
    assert url == "http://team.example:5000/mlflow/ajax-api/2.0/mlflow/x?a=1"
    assert login == "alice:s3cret-pass-123"  # the key of the store's URL, found from a route
    assert _login("http://bob@team.example:5000/health") == (
        "http://team.example:5000/health",
        "bob:",  # no password kept: the server answers 401, the URL still has no user
    )


def test_no_login_no_header() -> None:
    assert "Authorization" not in rest._request("http://team.example:5000/health").headers
