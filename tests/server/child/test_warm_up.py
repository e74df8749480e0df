"""What a host imports ahead of any project, in this process (MLflow imported here)."""

from __future__ import annotations

import importlib

from launcher.server.child import warm_up


def test_every_serving_module_exists_in_this_mlflow() -> None:
    """The host skips a name a later MLflow lacks; this says when the list went stale."""
    missing = []
    for name in warm_up.SERVING_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    assert missing == []
