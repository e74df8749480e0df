"""Starting a child process: one way for every child, tied to the launcher's life.

Every child (a server, a host, a move, a probe, a schema check) is started by :func:`spawn`,
or by :func:`run` for one that answers and ends; here alone are the Windows creation flags and
the lifeline:

- POSIX: a long-lived child reads its standard input, whose other end only the launcher holds;
  when the launcher dies for any reason the pipe closes and the child stops itself
  (``--watch-stdin``, ``child/stdin_pipe.py``). It gets a session (process group) of its own, so
  a Ctrl-C in the launcher's terminal reaches only the launcher, which then stops its children
  in order.
- Windows: no console window, and every child goes into one Job Object with
  KILL_ON_JOB_CLOSE, so the kernel ends the whole tree when the launcher's handle to the job
  goes away.

The one process the launcher starts otherwise is the installer of an update
(``updates/installer.py``): it must outlive the launcher it replaces.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

_lock = threading.Lock()
_job: int | None = None


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    lifeline: bool = True,
    merge_stderr: bool = True,
) -> subprocess.Popen[bytes]:
    """Start a child tied to the launcher; raises OSError when the program cannot be run.

    ``lifeline``: its standard input is a pipe the launcher holds (a child run with
    ``--watch-stdin`` stops when it closes, and reads requests from it), else nothing.
    ``merge_stderr``: its output is one stream (for its log), else stdout and stderr apart.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if lifeline else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        **_flags(),  # type: ignore[call-overload]
    )
    _adopt(proc.pid)
    return proc


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    merge_stderr: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a child that answers and ends (a probe, a schema check), its output as text.

    Raises OSError when the program cannot be run, and ``subprocess.TimeoutExpired`` (the
    child killed) when it takes longer than ``timeout``.
    """
    proc = spawn(argv, env=env, cwd=cwd, lifeline=False, merge_stderr=merge_stderr)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, _text(out), _text(err))


def _text(data: bytes | None) -> str:
    text = (data or b"").decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def _flags() -> dict[str, object]:
    if sys.platform == "win32":
        return {
            "creationflags": subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
            | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        }
    return {"start_new_session": True}


def _adopt(pid: int) -> None:
    """Tie a freshly started child to the launcher's lifetime (Windows: the Job Object)."""
    if sys.platform != "win32":
        return
    try:
        _assign_to_job(pid)
    except OSError as exc:  # pragma: no cover - Windows only
        log.warning("could not put child %s into the launcher's job object: %s", pid, exc)


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
