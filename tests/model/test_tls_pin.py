"""Pinning a team server's certificate on first use; a changed one refused in plain words."""

from __future__ import annotations

from launcher.model import tls_pin
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.snippet import tracking_snippet


def test_origin_is_for_https_only() -> None:
    assert tls_pin.origin("https://ann@Team-PC:5000/x") == ("team-pc", 5000)
    assert tls_pin.origin("https://team.example") == ("team.example", 443)
    assert tls_pin.origin("http://team:5000") is None


def test_the_snippet_of_an_https_server_names_the_pinned_certificate(paths: AppPaths) -> None:
    assert "CERT_PATH" not in tracking_snippet(Project("T", "https://team-pc:5000"), paths=paths)
    pem = str(tls_pin.pin_path(paths, "team-pc", 5000))
    tls_pin.pin_path(paths, "team-pc", 5000).parent.mkdir(parents=True)
    tls_pin.pin_path(paths, "team-pc", 5000).write_text("pinned")
    snippet = tracking_snippet(Project("T", "https://ann@team-pc:5000"), paths=paths)
    assert f"os.environ.setdefault('MLFLOW_TRACKING_SERVER_CERT_PATH', {pem!r})" in snippet
    assert "set_tracking_uri('https://team-pc:5000')" in snippet
    plain = tracking_snippet(Project("T", "http://team-pc:5000"), paths=paths)
    assert "CERT_PATH" not in plain
