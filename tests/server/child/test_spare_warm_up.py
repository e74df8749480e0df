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
