"""Real MLflow stores for the tests, written by the mlflow client in a child process.

Run as ``python tests/stores.py KIND DEST NAME...``; the fixtures in conftest.py call it once per
session and copy the result, so each test gets a fresh store in a second or less.
"""

from __future__ import annotations

import os
import sys


def make(kind: str, dest: str, names: list[str]) -> None:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow

    if kind == "folder":
        uri = "file:///" + os.path.abspath(dest).lstrip("/").replace("\\", "/")
    elif kind == "uri":
        uri = dest
    else:
        uri = "sqlite:///" + os.path.abspath(dest).replace("\\", "/")
    mlflow.set_tracking_uri(uri)
    for i, name in enumerate(names):
        mlflow.set_experiment(name)
        with mlflow.start_run(run_name=f"run-{i}"):
            mlflow.log_param("alpha", i)
            mlflow.log_metric("loss", 1.0 / (i + 1))


def downgrade(path_or_uri: str, steps: int) -> None:
    """Turn a current SQL store into one an older MLflow wrote (alembic downgrade)."""
    from alembic import command
    from mlflow.store.db.utils import _get_alembic_config

    uri = path_or_uri if "://" in path_or_uri else "sqlite:///" + os.path.abspath(path_or_uri)
    command.downgrade(_get_alembic_config(uri), f"-{steps}")


if __name__ == "__main__":
    if sys.argv[1] == "downgrade":
        downgrade(sys.argv[2], int(sys.argv[3]))
    else:
        make(sys.argv[1], sys.argv[2], sys.argv[3:])
