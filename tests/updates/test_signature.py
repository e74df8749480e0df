"""The Authenticode rules: a signed launcher takes only signed updates; a signature is found in
the PE header where Windows keeps it."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from launcher.updates.signature import SignatureRefused, check, has_signature


def pe(path: Path, *, signed: bool, pe32_plus: bool = True) -> Path:
    """A minimal PE file: DOS header, PE signature, COFF header, optional header whose
    certificate-table entry is set when ``signed``."""
    data = bytearray(0x400)
    data[0:2] = b"MZ"
    struct.pack_into("<I", data, 0x3C, 0x80)
    data[0x80:0x84] = b"PE\0\0"
    optional = 0x80 + 24
    struct.pack_into("<H", data, optional, 0x20B if pe32_plus else 0x10B)
    entry = optional + (112 if pe32_plus else 96) + 8 * 4
    if signed:
        struct.pack_into("<II", data, entry, 0x300, 0x100)
    path.write_bytes(bytes(data))
    return path


def test_a_signature_is_seen_in_both_pe_kinds(tmp_path: Path) -> None:
    assert has_signature(pe(tmp_path / "a.exe", signed=True))
    assert has_signature(pe(tmp_path / "b.exe", signed=True, pe32_plus=False))
    assert not has_signature(pe(tmp_path / "c.exe", signed=False))
    (tmp_path / "d.exe").write_bytes(b"not a program")
    assert not has_signature(tmp_path / "d.exe")
    assert not has_signature(tmp_path / "missing.exe")


def test_a_signed_launcher_refuses_an_unsigned_update(tmp_path: Path) -> None:
    ours = pe(tmp_path / "ours.exe", signed=True)
    with pytest.raises(SignatureRefused, match="not signed, but this MLflow Launcher is"):
        check(pe(tmp_path / "setup.exe", signed=False), ours)


def test_unsigned_launcher_and_unsigned_update_rest_on_the_checksum(tmp_path: Path) -> None:
    verdict = check(pe(tmp_path / "setup.exe", signed=False), pe(tmp_path / "o.exe", signed=False))
    assert "not signed" in verdict


@pytest.mark.skipif(__import__("os").name == "nt", reason="Windows verifies for real")
def test_off_windows_a_signed_update_is_noted_as_unverified(tmp_path: Path) -> None:
    verdict = check(pe(tmp_path / "setup.exe", signed=True), pe(tmp_path / "o.exe", signed=True))
    assert "only be verified on Windows" in verdict
