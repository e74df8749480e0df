"""What the launcher needs to know about a Python environment's MLflow, without importing it.

Run as ``commands.py probe`` in another interpreter, and called in-process for the launcher's own
(:mod:`launcher.server.python.environment`). Standard library only.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def probe() -> dict[str, Any]:
    """What the launcher needs to know about this environment, without importing MLflow."""
    import importlib.util

    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "mlflow": None,
        "mlflow_dir": None,
        "lean": False,
    }
    try:
        from importlib.metadata import version

        info["mlflow"] = version("mlflow")
    except Exception:
        try:
            info["mlflow"] = version("mlflow-skinny")
        except Exception:
            return info
    spec = importlib.util.find_spec("mlflow")
    if spec is None or not spec.submodule_search_locations:
        info["mlflow"] = None
        return info
    mlflow_dir = next(iter(spec.submodule_search_locations))
    info["mlflow_dir"] = mlflow_dir
    handlers = os.path.join(mlflow_dir, "server", "handlers.py")
    fastapi_app = os.path.join(mlflow_dir, "server", "fastapi_app.py")
    try:
        with open(handlers, encoding="utf-8") as fh:
            has_init = "def initialize_backend_stores(" in fh.read()
    except OSError:
        has_init = False
    if getattr(sys, "frozen", False):
        # Frozen, the sources live in the archive, not on disk; the bundle ships the lean server.
        info["lean"] = True
        return info
    info["lean"] = (
        has_init and os.path.exists(fastapi_app) and importlib.util.find_spec("uvicorn") is not None
    )
    return info
