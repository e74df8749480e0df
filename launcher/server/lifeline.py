"""Making sure no server outlives the launcher, even a killed one.

POSIX: every server reads its standard input, whose other end only the launcher holds; when the
launcher dies for any reason the pipe closes and the server stops itself (``child/main.py
--watch-stdin``). Windows: servers also go into one Job Object with KILL_ON_JOB_CLOSE, so the
kernel ends the whole tree when the launcher's handle to the job goes away.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

_lock = threading.Lock()
_job: int | None = None


def spawn(argv: Sequence[str], *, cwd: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start a server process (a project's own, or a host) tied to the launcher.

    Its standard input is the lifeline pipe; its output is one stream, for its log. It gets a
    session (process group) of its own, so a Ctrl-C in the launcher's terminal reaches only the
    launcher, which then stops its servers in order; on Windows no console window, and the Job
    Object. Raises OSError when the program cannot be run.
    """
    kwargs: dict[str, object] = {}
    if os.name == "nt":
        kwargs["creationflags"] = (
            subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
            | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        )
    else:
        kwargs["start_new_session"] = True
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=dict(env),
        **kwargs,  # type: ignore[call-overload]
    )
    adopt(proc.pid)
    return proc


def adopt(pid: int) -> None:
    """Tie a freshly started server process to the launcher's lifetime."""
    if os.name != "nt":
        return
    try:
        _assign_to_job(pid)
    except OSError as exc:  # pragma: no cover - Windows only
        log.warning("could not put server %s into the launcher's job object: %s", pid, exc)


def _assign_to_job(pid: int) -> None:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    ]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]

    global _job
    with _lock:
        if _job is None:
            job = kernel32.CreateJobObjectW(None, None)
            if not job:
                raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]

            class IoCounters(ctypes.Structure):
                _fields_ = [
                    (n, ctypes.c_ulonglong)
                    for n in (
                        "ReadOperationCount",
                        "WriteOperationCount",
                        "OtherOperationCount",
                        "ReadTransferCount",
                        "WriteTransferCount",
                        "OtherTransferCount",
                    )
                ]

            class BasicLimits(ctypes.Structure):
                _fields_ = [
                    ("PerProcessUserTimeLimit", ctypes.c_int64),
                    ("PerJobUserTimeLimit", ctypes.c_int64),
                    ("LimitFlags", wintypes.DWORD),
                    ("MinimumWorkingSetSize", ctypes.c_size_t),
                    ("MaximumWorkingSetSize", ctypes.c_size_t),
                    ("ActiveProcessLimit", wintypes.DWORD),
                    ("Affinity", ctypes.c_size_t),
                    ("PriorityClass", wintypes.DWORD),
                    ("SchedulingClass", wintypes.DWORD),
                ]

            class ExtendedLimits(ctypes.Structure):
                _fields_ = [
                    ("BasicLimitInformation", BasicLimits),
                    ("IoInfo", IoCounters),
                    ("ProcessMemoryLimit", ctypes.c_size_t),
                    ("JobMemoryLimit", ctypes.c_size_t),
                    ("PeakProcessMemoryUsed", ctypes.c_size_t),
                    ("PeakJobMemoryUsed", ctypes.c_size_t),
                ]

            job_object_limit_kill_on_job_close = 0x2000
            job_object_extended_limit_information = 9
            info = ExtendedLimits()
            info.BasicLimitInformation.LimitFlags = job_object_limit_kill_on_job_close
            ok = kernel32.SetInformationJobObject(
                job,
                job_object_extended_limit_information,
                ctypes.byref(info),
                ctypes.sizeof(info),
            )
            if not ok:
                err = ctypes.get_last_error()  # type: ignore[attr-defined]
                kernel32.CloseHandle(job)
                raise ctypes.WinError(err)  # type: ignore[attr-defined]
            _job = job
    process_set_quota, process_terminate = 0x0100, 0x0001
    handle = kernel32.OpenProcess(process_set_quota | process_terminate, False, pid)
    if not handle:
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    try:
        if not kernel32.AssignProcessToJobObject(_job, handle):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    finally:
        kernel32.CloseHandle(handle)
