"""What a warm spare does ahead of its hand-over, in this process (MLflow imported here)."""

from __future__ import annotations

import importlib

from launcher.server.child import spare


def test_every_serving_module_exists_in_this_mlflow() -> None:
    """The spare skips a name a later MLflow lacks; this says when the list went stale."""
    missing = []
    for name in spare.SERVING_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    assert missing == []


STARTED = {"PATH": "/usr/bin", "HOME": "/home/u", "MLFLOW_DISABLE_TELEMETRY": "true"}


def test_what_the_spares_own_start_changed_is_kept() -> None:
    """A frozen bundle's bootloader put its folder on PATH and set a variable of its own."""
    own = {**STARTED, "PATH": "C:/app/_internal;/usr/bin", "_PYI_LEVEL": "1"}
    env = {**STARTED, "_MLFLOW_SERVER_FILE_STORE": "file:///share/mlruns"}
    serving, differing = spare.environment_to_serve(own, STARTED, env)
    assert differing == []
    assert serving == {**env, "PATH": "C:/app/_internal;/usr/bin", "_PYI_LEVEL": "1"}


def test_a_project_differing_from_what_the_spare_started_with_is_refused() -> None:
    env = {**STARTED, "_MLFLOW_STATIC_PREFIX": "/ml", "PATH": "/opt/bin"}
    _serving, differing = spare.environment_to_serve(STARTED, STARTED, env)
    assert differing == ["PATH", "_MLFLOW_STATIC_PREFIX"]


def test_late_variables_come_from_the_project_alone() -> None:
    own = {**STARTED, "PGPASSWORD": "stale"}
    serving, differing = spare.environment_to_serve(own, STARTED, {**STARTED, "PGPASSWORD": "s3"})
    assert differing == [] and serving["PGPASSWORD"] == "s3"
