"""The settings dialog: the project list and the general options.

Every change is saved when it is made (Add, Edit, Remove, a ticked box), through the controller,
which writes the config under its lock: there is no Apply to forget, and a project the CLI added
meanwhile is never overwritten.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.model.config import Config
from launcher.model.project import Project
from launcher.model.updates import POLICY_OFF, POLICY_ON
from launcher.server.manager import POLICY_KEEP, POLICY_STOP
from launcher.ui.common.icons import app_icon, project_icon
from launcher.ui.common.widgets import named
from launcher.ui.hosts import SettingsHost
from launcher.ui.project_row import ProjectRow
from launcher.ui.settings.project_editor import ProjectEditor

_NAME = Qt.ItemDataRole.UserRole


class SettingsDialog(QDialog):
    def __init__(self, controller: SettingsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("MLflow Launcher settings")
        self.setWindowIcon(app_icon())
        self.resize(760, 440)
        self.editor: ProjectEditor | None = None
        self.rows: dict[str, ProjectRow] = {}
        """The listed projects as shown, by name (project_row.py)."""
        self.discover_dialog: QDialog | None = None
        tabs = QTabWidget()
        tabs.addTab(self._projects_tab(), "Projects")
        tabs.addTab(self._general_tab(), "General")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(close)
        controller.changed.connect(self.refresh)
        self.refresh()

    # -- projects ------------------------------------------------------------------------------

    def _projects_tab(self) -> QWidget:
        page = QWidget()
        self.table = named(QTreeWidget(), "projects")
        self.table.setHeaderLabels(["Name", "Store", "State"])
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemDoubleClicked.connect(lambda *_: self.edit())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        buttons = QVBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, slot in (
            ("add", "Add…", self.add),
            ("discover", "Add from folder…", self.add_from_folder),
            ("edit", "Edit…", self.edit),
            ("duplicate", "Duplicate…", self.duplicate),
            ("remove", "Remove", self.remove),
            ("up", "Move up", lambda: self.move_selected(-1)),
            ("down", "Move down", lambda: self.move_selected(1)),
        ):
            button = named(QPushButton(text), key)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[key] = button
        buttons.addStretch(1)
        row = QHBoxLayout(page)
        row.addWidget(self.table, 1)
        row.addLayout(buttons)
        return page

    @Slot()
    def refresh(self) -> None:
        """Show the config and the servers as they are now, keeping the selection."""
        selected = self.selected_name()
        config = self.controller.config
        self.table.clear()
        self.rows = {row.name: row for row in self.controller.rows()}
        for row in self.rows.values():
            item = QTreeWidgetItem([row.label, row.store, row.status])
            item.setData(0, _NAME, row.name)
            item.setIcon(2, project_icon(row.state))
            item.setToolTip(1, row.project.store)
            if row.team:  # read-only: shown greyed, with where it comes from
                grey = QBrush(self.palette().color(QPalette.ColorRole.PlaceholderText))
                for column in (0, 1):
                    item.setForeground(column, grey)
                    item.setToolTip(column, row.hint)
            self.table.addTopLevelItem(item)
            if row.name == selected:
                self.table.setCurrentItem(item)
        first = self.table.topLevelItem(0)
        if self.table.currentItem() is None and first is not None:
            self.table.setCurrentItem(first)
        self._load_general(config)
        self._update_buttons()

    def selected_name(self) -> str:
        item = self.table.currentItem() if hasattr(self, "table") else None
        return str(item.data(0, _NAME) or item.text(0)) if item is not None else ""

    def _update_buttons(self) -> None:
        name = self.selected_name()
        names = [p.name for p in self.controller.config.projects]
        row = self.rows.get(name)
        local = row is not None and row.can_edit  # a team project is read-only
        self.buttons["duplicate"].setEnabled(bool(name))  # of a team project: a local copy
        for key in ("edit", "remove"):
            self.buttons[key].setEnabled(local)
        self.buttons["up"].setEnabled(
            bool(name) and names.index(name) > 0 if name in names else False
        )
        self.buttons["down"].setEnabled(
            bool(name) and names.index(name) < len(names) - 1 if name in names else False
        )

    @Slot()
    def add(self) -> None:
        self._open_editor(None, is_new=True)

    @Slot()
    def add_from_folder(self) -> None:
        """Find the stores under a folder or share and add the chosen ones."""
        from launcher.ui.settings.discover_dialog import DiscoverDialog

        dialog = DiscoverDialog(
            self.controller.update_config,
            lambda: [row.project for row in self.controller.rows()],
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.discover_dialog = dialog
        dialog.open()

    @Slot()
    def edit(self) -> None:
        name = self.selected_name()
        project = self.controller.find(name)
        if project is not None and not self.controller.is_team(name):
            self._open_editor(project)

    @Slot()
    def duplicate(self) -> None:
        project = self.controller.find(self.selected_name())
        if project is None:
            return
        taken = {p.name.casefold() for p in self.controller.config.projects}
        name = f"{project.name} (copy)"
        n = 2
        while name.casefold() in taken:
            name = f"{project.name} (copy {n})"
            n += 1
        copy = Project.from_dict({**project.to_dict(), "name": name, "port": 0})
        self._open_editor(copy, is_new=True)

    @Slot()
    def remove(self) -> None:
        name = self.selected_name()
        if not name or self.controller.is_team(name):
            return
        running = self.controller.state(name).value in ("running", "starting")
        text = f"Remove the project “{name}” from the launcher?"
        if running:
            text += " Its server will be stopped."
        text += "\n\nThe store itself is not touched: no experiment or run is deleted."
        answer = QMessageBox.question(
            self, "Remove project", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.remove_project(name)

    def move_selected(self, step: int) -> None:
        name = self.selected_name()

        def change(config: Config) -> None:
            index = next(i for i, p in enumerate(config.projects) if p.name == name)
            target = index + step
            if 0 <= target < len(config.projects):
                projects = config.projects
                projects[index], projects[target] = projects[target], projects[index]

        if name:
            self.controller.update_config(change)

    def _open_editor(self, project: Project | None, *, is_new: bool = False) -> None:
        self.editor = ProjectEditor(self.controller, project, is_new=is_new, parent=self)
        self.editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor.open()

    # -- general -------------------------------------------------------------------------------

    def _general_tab(self) -> QWidget:
        page = QWidget()
        self.open_browser = named(
            QCheckBox("Open the browser when a project is ready"), "open-browser"
        )
        self.policy = named(QComboBox(), "policy")
        self.policy.addItem("Keep the others running (stop idle ones)", POLICY_KEEP)
        self.policy.addItem("Stop the others", POLICY_STOP)
        self.idle = named(QSpinBox(), "idle-minutes")
        self.idle.setRange(0, 24 * 60)
        self.idle.setSuffix(" min")
        self.idle.setSpecialValueText("never")
        self.login = named(QCheckBox("Start MLflow Launcher when I log in"), "start-at-login")
        self.login.setEnabled(self.controller.autostart is not None)
        self.telemetry = named(
            QCheckBox("Share anonymous usage data with MLflow"), "share-usage-data"
        )
        self.telemetry.setToolTip(
            "MLflow 3 can send usage data from its server and UI. Off, the servers the launcher "
            "starts run with MLFLOW_DISABLE_TELEMETRY and DO_NOT_TRACK set (from their next "
            "start). The launcher itself sends nothing either way."
        )
        form = QFormLayout(page)
        form.addRow(self.open_browser)
        form.addRow("When switching projects", self.policy)
        form.addRow("Stop a server unused for", self.idle)
        hint = QLabel("Idle servers are stopped to save memory; a click starts them again.")
        hint.setWordWrap(True)
        form.addRow("", hint)
        form.addRow(self.login)
        form.addRow(self.telemetry)
        self.keep_warm = named(QCheckBox("Keep a server warm for instant start"), "keep-warm")
        self.keep_warm.setToolTip(
            "One server process with MLflow already loaded (about 250 MB) waits for the next "
            "click and then serves every project you open, each on its own port. Off: it is "
            "started when the menu opens, and stops a few minutes after the last project."
        )
        form.addRow(self.keep_warm)
        self.keep_warm.toggled.connect(self._save_keep_warm)
        self.updates = named(QCheckBox("Check for updates once a day"), "check-updates")
        self.updates.setToolTip(
            "Reads the update feed (GitHub's releases, or your team's) at most once a day; the "
            'menu then offers "Update to …". Nothing is installed without your click.'
        )
        self.updates.setVisible(self.controller.self_updating)  # an installed Windows copy
        form.addRow(self.updates)
        self.updates.toggled.connect(self._save_updates)
        self.view_refresh = named(QSpinBox(), "view-refresh-minutes")
        self.view_refresh.setRange(0, 7 * 24 * 60)
        self.view_refresh.setSuffix(" min")
        self.view_refresh.setSpecialValueText("only on demand")
        form.addRow("Refresh a fast view older than", self.view_refresh)
        self.view_refresh.valueChanged.connect(self._save_view_refresh)
        self.watch_interval = _spin("watch-interval", 0, 3600, " s", "off")
        form.addRow("Look at watched projects' runs every", self.watch_interval)
        self.stall = _spin("stall-minutes", 1, 24 * 60, " min")
        form.addRow("A run seems stalled with nothing logged for", self.stall)
        self.watch_interval.valueChanged.connect(self._save_watch)
        self.stall.valueChanged.connect(self._save_watch)
        self.open_browser.toggled.connect(self._save_general)
        self.telemetry.toggled.connect(self._save_general)
        self.policy.currentIndexChanged.connect(self._save_general)
        self.idle.editingFinished.connect(self._save_general)
        self.idle.valueChanged.connect(self._save_general)
        self.login.toggled.connect(self.controller.set_autostart)
        return page

    def _load_general(self, config: Config) -> None:
        s = config.settings
        widgets = (self.open_browser, self.policy, self.idle, self.login, self.telemetry)
        for widget in widgets:
            widget.blockSignals(True)
        self.open_browser.setChecked(s.open_browser)
        self.telemetry.setChecked(s.share_usage_data)
        self.policy.setCurrentIndex(max(0, self.policy.findData(s.switch_policy)))
        self.idle.setValue(s.idle_stop_minutes)
        self.idle.setEnabled(s.switch_policy == POLICY_KEEP)
        for spin, value in ((self.view_refresh, s.view_refresh_minutes),
                            (self.watch_interval, s.watch_interval_seconds),
                            (self.stall, s.stall_minutes)):  # fmt: skip
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self.login.setChecked(
            self.controller.autostart_enabled() if self.controller.autostart else s.start_at_login
        )
        for widget in widgets:
            widget.blockSignals(False)
        self.keep_warm.blockSignals(True)
        self.keep_warm.setChecked(s.keep_warm)
        self.keep_warm.blockSignals(False)
        self.updates.blockSignals(True)
        self.updates.setChecked(s.updates == POLICY_ON)
        self.updates.blockSignals(False)

    @Slot()
    def _save_general(self) -> None:
        open_browser = self.open_browser.isChecked()
        policy = str(self.policy.currentData())
        idle = self.idle.value()
        share = self.telemetry.isChecked()
        s = self.controller.config.settings
        now = (s.open_browser, s.switch_policy, s.idle_stop_minutes, s.share_usage_data)
        if now == (open_browser, policy, idle, share):
            return

        def change(config: Config) -> None:
            config.settings.share_usage_data = share
            config.settings.open_browser = open_browser
            config.settings.switch_policy = policy
            config.settings.idle_stop_minutes = idle

        self.controller.update_config(change)

    @Slot(bool)
    def _save_keep_warm(self, keep: bool) -> None:
        if self.controller.config.settings.keep_warm == keep:
            return

        def change(config: Config) -> None:
            config.settings.keep_warm = keep

        self.controller.update_config(change)

    @Slot(bool)
    def _save_updates(self, allowed: bool) -> None:
        policy = POLICY_ON if allowed else POLICY_OFF
        if self.controller.config.settings.updates == policy:
            return

        def change(config: Config) -> None:
            config.settings.updates = policy

        self.controller.update_config(change)

    @Slot()
    def _save_view_refresh(self) -> None:
        minutes = self.view_refresh.value()
        if self.controller.config.settings.view_refresh_minutes != minutes:

            def change(config: Config) -> None:
                config.settings.view_refresh_minutes = minutes

            self.controller.update_config(change)

    @Slot()
    def _save_watch(self) -> None:
        """The run watch's interval (0: off) and stall window (launcher.ui.run_watch)."""
        seconds, minutes = self.watch_interval.value(), self.stall.value()
        s = self.controller.config.settings
        if (s.watch_interval_seconds, s.stall_minutes) != (seconds, minutes):

            def change(config: Config) -> None:
                config.settings.watch_interval_seconds = seconds
                config.settings.stall_minutes = minutes

            self.controller.update_config(change)


def _spin(name: str, low: int, high: int, suffix: str, special: str = "") -> QSpinBox:
    spin = named(QSpinBox(), name)
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setSpecialValueText(special)
    return spin
