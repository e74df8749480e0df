"""The Authenticode check of a downloaded installer, for releases that are signed.

Rules: when this launcher is itself signed, an update must be signed too (an unsigned file on
the feed is what a tampered feed would offer); an installer that carries a signature must pass
Windows' own check (WinVerifyTrust: the file's digest, the chain to a trusted root). Elsewhere
(Linux, where only the tests run this) a signature cannot be verified and the rule on the
launcher's own signature is all there is.
"""

from __future__ import annotations

import logging
import struct
import sys
from pathlib import Path

import launcher

log = logging.getLogger(__name__)

SECURITY_DIRECTORY = 4
"""IMAGE_DIRECTORY_ENTRY_SECURITY: where a PE file keeps its Authenticode signature."""


class SignatureRefused(Exception):
    """The installer's signature is missing where it must be, or does not verify."""


def has_signature(path: Path) -> bool:
    """True when the PE file at ``path`` carries an Authenticode signature (a certificate table
    entry in its optional header's data directories); False for anything else."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if head[:2] != b"MZ" or len(head) < 0x40:
        return False
    (pe,) = struct.unpack_from("<I", head, 0x3C)
    if head[pe : pe + 4] != b"PE\0\0" or len(head) < pe + 24 + 2:
        return False
    optional = pe + 24
    (magic,) = struct.unpack_from("<H", head, optional)
    directories = optional + {0x10B: 96, 0x20B: 112}.get(magic, -optional - 1)
    entry = directories + 8 * SECURITY_DIRECTORY
    if directories < 0 or len(head) < entry + 8:
        return False
    address, size = struct.unpack_from("<II", head, entry)
    return address > 0 and size > 0


def running_exe() -> Path | None:
    """The frozen launcher's own exe; None when running from a Python install."""
    return Path(sys.executable) if launcher.frozen() else None


def check(installer: Path, ours: Path | None = None) -> str:
    """Raise SignatureRefused by the rules above; otherwise say what was checked."""
    ours = running_exe() if ours is None else ours
    signed = has_signature(installer)
    if ours is not None and has_signature(ours) and not signed:
        raise SignatureRefused(
            f"{installer.name} is not signed, but this MLflow Launcher is: not installing it"
        )
    if not signed:
        return "not signed (neither is this launcher); its SHA-256 matches the feed"
    if sys.platform != "win32":
        return "signed; the signature can only be verified on Windows"
    status = _win_verify_trust(installer)
    if status != 0:
        raise SignatureRefused(
            f"{installer.name}'s signature does not verify "
            f"(WinVerifyTrust 0x{status & 0xFFFFFFFF:08X}): not installing it"
        )
    return "signed, and Windows verified the signature"


def _win_verify_trust(path: Path) -> int:
    """WinVerifyTrust with the Authenticode policy, no UI, no revocation look-up (offline PCs)."""
    import ctypes
    import uuid
    from ctypes import wintypes

    class FileInfo(ctypes.Structure):
        _fields_ = [("cbStruct", wintypes.DWORD), ("pcwszFilePath", wintypes.LPCWSTR),
                    ("hFile", wintypes.HANDLE), ("pgKnownSubject", ctypes.c_void_p)]  # fmt: skip

    class TrustData(ctypes.Structure):
        _fields_ = [("cbStruct", wintypes.DWORD), ("pPolicyCallbackData", ctypes.c_void_p),
                    ("pSIPClientData", ctypes.c_void_p), ("dwUIChoice", wintypes.DWORD),
                    ("fdwRevocationChecks", wintypes.DWORD), ("dwUnionChoice", wintypes.DWORD),
                    ("pFile", ctypes.POINTER(FileInfo)), ("dwStateAction", wintypes.DWORD),
                    ("hWVTStateData", wintypes.HANDLE), ("pwszURLReference", wintypes.LPCWSTR),
                    ("dwProvFlags", wintypes.DWORD), ("dwUIContext", wintypes.DWORD),
                    ("pSignatureSettings", ctypes.c_void_p)]  # fmt: skip

    action = (ctypes.c_byte * 16).from_buffer_copy(
        uuid.UUID("00AAC56B-CD44-11D0-8CC2-00C04FC295EE").bytes_le  # GENERIC_VERIFY_V2
    )
    info = FileInfo(ctypes.sizeof(FileInfo), str(path), None, None)
    data = TrustData()
    data.cbStruct = ctypes.sizeof(TrustData)
    data.dwUIChoice = 2  # WTD_UI_NONE
    data.fdwRevocationChecks = 0  # WTD_REVOKE_NONE
    data.dwUnionChoice = 1  # WTD_CHOICE_FILE
    data.pFile = ctypes.pointer(info)
    wintrust = ctypes.WinDLL("wintrust")  # type: ignore[attr-defined]
    status = int(wintrust.WinVerifyTrust(None, ctypes.byref(action), ctypes.byref(data)))
    log.info("WinVerifyTrust %s: 0x%08X", path, status & 0xFFFFFFFF)
    return status
