"""The editor's Check button and its findings: the server's pre-flight, asked on request.

The doctor (``launcher.server.checks.doctor``) runs in a thread, since an offline share can take
many seconds to answer; the button says "Checking…" meanwhile and the dialog stays responsive.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QWidget

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.signals import emit
from launcher.ui.common.widgets import named
from launcher.ui.common.workers import run_in_thread

MARKS = {"ok": "✔", "warning": "⚠", "error": "✖"}


class DoctorCheck(QObject):
    """Owns ``button`` and ``findings`` (the editor lays them out); ``finished`` after a check."""

    finished = Signal()

    def __init__(self, paths: AppPaths, parent: QWidget) -> None:
        super().__init__(parent)
        self._paths = paths
        self.button = named(QPushButton("Check"), "check")
        self.button.setToolTip("Ask the doctor: is the store reachable, what is in it?")
        self.findings = named(QPlainTextEdit(readOnly=True), "findings")
        self.findings.setVisible(False)
        self.findings.setMinimumHeight(130)

    def say(self, text: str) -> None:
        self.findings.setVisible(True)
        self.findings.setPlainText(text)

    def run(self, project: Project) -> None:
        """Run the doctor on ``project`` in a thread; show its findings when it answers."""
        paths = self._paths
        self.button.setEnabled(False)
        self.button.setText("Checking…")
        self.say("Checking the store… (a share that is offline can take a while)")

        def diagnose() -> str:
            from launcher.server.checks import doctor

            report = doctor.diagnose(project, paths)
            lines = [f"{MARKS.get(f.level, '•')} {f.topic}: {f.text}" for f in report.findings]
            verdict = "All good." if report.ok else "Problems found."
            return "\n".join([verdict, "", *lines]) if lines else report.format()

        def done(text: str) -> None:
            self._reset()
            self.say(text)

        def failed(exc: BaseException) -> None:
            self._reset()
            if isinstance(exc, ImportError):
                self.say("✖ The doctor is not available in this version.")
            else:
                self.say(f"✖ The check itself failed: {type(exc).__name__}: {exc}")

        run_in_thread(diagnose, done, failed, owner=self, name="doctor")

    def _reset(self) -> None:
        self.button.setText("Check")
        emit(self.finished)
