"""Is a path on a network share? SQLite over SMB or NFS with several writers corrupts files,
so a database the launcher creates there gets a plain-words warning first."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil

NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "sshfs", "fuse.sshfs", "9p",
        "afs", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph", "lustre", "davfs", "fuse.rclone",
    }
)  # fmt: skip


def network_share(path: str | Path) -> str | None:
    """A short description of the share ``path`` is on, or None for a local disk."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return "a network share (UNC path)"
    if sys.platform == "win32":
        return _windows_drive(text)
    return _mount(text)


def _windows_drive(text: str) -> str | None:
    import ctypes

    drive = os.path.splitdrive(os.path.abspath(text))[0]
    if not drive:
        return None
    drive_remote = 4
    kind = ctypes.windll.kernel32.GetDriveTypeW(drive + "\\")  # type: ignore[attr-defined]
    return f"a mapped network drive ({drive})" if kind == drive_remote else None


def _mount(text: str) -> str | None:
    """The file system of the deepest mount point holding ``text`` (the path need not exist)."""
    target = os.path.abspath(text)
    best: tuple[int, str] | None = None
    try:
        partitions = psutil.disk_partitions(all=True)
    except (OSError, RuntimeError):
        return None
    for part in partitions:
        mount = part.mountpoint.rstrip("/") or "/"
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and (
            best is None or len(mount) > best[0]
        ):
            best = (len(mount), part.fstype)
    if best is not None and best[1].lower() in NETWORK_FILESYSTEMS:
        return f"a network file system ({best[1]})"
    return None
