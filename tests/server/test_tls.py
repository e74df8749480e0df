"""HTTPS for team servers: self-signed certificates and pins (the live server: test_team_server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model import tls_pin
from launcher.model.paths import AppPaths
from launcher.server import tls


def test_a_pin_is_kept_and_a_changed_certificate_is_refused(
    paths: AppPaths, tmp_path: Path
) -> None:
    first = tls.self_signed(tmp_path / "a", ["team-pc"])
    second = tls.self_signed(tmp_path / "b", ["team-pc"])
    assert tls.self_signed(tmp_path / "a", ["team-pc"]).fingerprint() == first.fingerprint()
    assert len(first.fingerprint().split(":")) == 32
    tls_pin.check(paths, "team-pc", 5000, first.pem())  # nothing pinned yet: fine
    path = tls_pin.pin(paths, "team-pc", 5000, first.pem())
    assert tls_pin.pinned(paths, "team-pc", 5000) == first.pem()
    tls_pin.check(paths, "team-pc", 5000, first.pem())
    with pytest.raises(tls_pin.CertificateChanged) as changed:
        tls_pin.check(paths, "team-pc", 5000, second.pem())
    message = str(changed.value)
    assert first.fingerprint() in message and second.fingerprint() in message
    assert str(path) in message and "team-pc:5000" in message
