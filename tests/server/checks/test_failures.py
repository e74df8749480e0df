from __future__ import annotations

# ruff: noqa: E501  (real log lines are long; keeping them whole keeps them honest)
import pytest

from launcher.server.checks.failures import Cause, classify

TRACEBACK_TAIL = ["Traceback (most recent call last):", '  File "x.py", line 1']


@pytest.mark.parametrize(
    ("code", "lines", "cause"),
    [
        (
            3,
            ["LAUNCHER-ERROR: port-taken: cannot listen on 127.0.0.1:5000: [Errno 98]"],
            Cause.PORT_TAKEN,
        ),
        (
            1,
            [
                "ERROR:    [Errno 98] error while attempting to bind on address: address already in use"
            ],
            Cause.PORT_TAKEN,
        ),
        (
            1,
            [
                "OSError: [WinError 10048] Only one usage of each socket address is normally permitted"
            ],
            Cause.PORT_TAKEN,
        ),
        (
            1,
            [*TRACEBACK_TAIL, "ModuleNotFoundError: No module named 'mlflow'"],
            Cause.MLFLOW_MISSING,
        ),
        (
            5,
            [
                "mlflow.exceptions.MlflowException: Detected out-of-date database schema (found "
                "version 1, but expected 2)."
            ],
            Cause.SCHEMA_OUTDATED,
        ),
        (
            5,
            [
                "The filesystem tracking backend (e.g., './mlruns') is in maintenance mode ... set "
                "`MLFLOW_ALLOW_FILE_STORE=true`"
            ],
            Cause.FILE_STORE_REFUSED,
        ),
        (
            5,
            ["PermissionError: [Errno 13] Permission denied: '/srv/mlruns/0'"],
            Cause.PERMISSION_DENIED,
        ),
        (
            5,
            [
                "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file"
            ],
            Cause.STORE_UNREACHABLE,
        ),
        (
            5,
            ["psycopg2.OperationalError: could not connect to server: Connection refused"],
            Cause.STORE_UNREACHABLE,
        ),
        (
            5,
            ["FileNotFoundError: [Errno 2] No such file or directory: '/srv/mlruns'"],
            Cause.STORE_MISSING,
        ),
        (-9, ["something nobody expected"], Cause.UNKNOWN),
    ],
)
def test_causes_are_named(code: int, lines: list[str], cause: Cause) -> None:
    failure = classify(code, lines)
    assert failure.cause is cause
    assert failure.message
    assert "Traceback" not in str(failure)


def test_unknown_keeps_the_log_tail_for_the_user() -> None:
    failure = classify(-9, ["a", "b", "ValueError: boom"])
    assert "exited with code -9" in failure.message
    assert "ValueError: boom" in failure.message
    assert failure.details().endswith("ValueError: boom")
