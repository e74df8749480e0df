"""Python's cyclic garbage collector, run in the GUI thread only.

The collector runs in whichever thread happens to allocate. When a cycle holding the last
reference to a Qt object (a closed dialog, a menu) is collected in a worker thread (a server
start, a doctor check), Qt deletes that object from the wrong thread and the tray crashes, at
random, hours later. So automatic collection is switched off and this timer collects in the GUI
thread instead, with the same generation thresholds (pyqtgraph does the same).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 1000


class MainThreadCollector(QObject):
    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    @Slot()
    def check(self) -> None:
        """Collect each generation whose count passed its threshold, as automatic GC would."""
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            generation = 0
            if counts[1] > self.threshold[1]:
                generation = 2 if counts[2] > self.threshold[2] else 1
            gc.collect(generation)

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
