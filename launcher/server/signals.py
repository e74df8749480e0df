"""Emitting a Qt signal safely: every emit in the launcher goes through :func:`emit`.

A workaround for one PySide6 release, in a module of its own so that whoever emits a signal
(the server manager, the store watch, the tray's workers) need not import the manager for it.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    ping = Signal()


def _emit_leaks_bool() -> bool:
    """Does ``Signal.emit`` return a bool it does not own a reference to?

    PySide6 6.12.0 does, on Python 3.11: each emit then drops a reference to ``True`` and a
    long-running tray dies with "bool_dealloc: deallocating True" after a few hundred signals.
    Python 3.12+ makes bools immortal, so there the count does not move and this says False.
    """
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) <= before - 4


_EMIT_LEAKS_BOOL = _emit_leaks_bool()


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, giving back the reference an affected PySide6 steals (see above).

    Every emit in the launcher goes through here.
    """
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]
    if _EMIT_LEAKS_BOOL and isinstance(result, bool):
        import ctypes  # only on affected versions: ctypes costs the tray memory

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
