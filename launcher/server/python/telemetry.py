"""MLflow's usage telemetry, only by the user's choice.

MLflow 3 sends usage data by default, from the server and from the UI it serves. The launcher's
users never chose that, so every server the launcher starts (lean or ``mlflow server``) runs with
both of MLflow's off switches set, unless the General setting "Share anonymous usage data with
MLflow" is on. The setting is read from the config at each start, so the tray and a ``serve`` in a
terminal agree, and a change applies from a server's next start. The launcher itself sends nothing.
"""

from __future__ import annotations

import json

from launcher.model.config import config_from_dict
from launcher.model.paths import AppPaths

OFF_SWITCHES = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
"""MLflow honours either (``mlflow/telemetry/utils.py``); both are set so older and newer agree."""


def sharing_chosen(paths: AppPaths) -> bool:
    """The user's choice; off when the config cannot be read (never share by accident).

    Read-only: starting a server must not create or rewrite the config file.
    """
    try:
        data = json.loads(paths.config_file.read_text(encoding="utf-8"))
        return config_from_dict(data).settings.share_usage_data
    except Exception:
        return False


def server_env(base: dict[str, str], paths: AppPaths) -> dict[str, str]:
    """``base`` with telemetry switched off, unless the user chose to share.

    When sharing is on, ``base`` is left as it is: a ``DO_NOT_TRACK`` the user set themselves
    still wins.
    """
    if sharing_chosen(paths):
        return dict(base)
    return {**base, **OFF_SWITCHES}
