"""What the moves of ``move`` (to a SQLite file, to a team database) show and change alike:
the progress line on standard error, and the switch of the project to its new store."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from launcher.app.commands.common import err
from launcher.model.config import Config, ConfigStore
from launcher.model.switch import switch_to_database
from launcher.server.stores.move.child_run import MoveError, Step

R = TypeVar("R")


def progress_printer() -> Callable[[Step], None]:
    """One rewritten line on a terminal; elsewhere (a log, a pipe) only the verify/done steps,
    so a captured output stays short."""
    live = sys.stderr.isatty()
    last = [""]

    def progress(step: Step) -> None:
        text = step.describe()
        if text == last[0]:
            return
        last[0] = text
        if live:
            print(f"\r{text:<60}", end="", file=sys.stderr, flush=True)
        elif step.phase in ("verify", "done") and not step.total:
            err(text)

    return progress


def end_progress() -> None:
    """Leave the rewritten progress line before the next message."""
    if sys.stderr.isatty():
        err("")


def run_move(
    move: Callable[[Callable[[Step], None], threading.Event], R],
    cancelled: str,
    failed: Callable[[MoveError], str],
) -> R | None:
    """``move(progress, cancel)`` with the progress line; Ctrl-C cancels it (the child is killed,
    nothing is kept). None, with ``cancelled`` or ``failed(error)`` said, when it did not end."""
    cancel = threading.Event()
    try:
        result = move(progress_printer(), cancel)
    except KeyboardInterrupt:
        cancel.set()
        err(f"\n{cancelled}")
        return None
    except MoveError as exc:
        end_progress()
        err(failed(exc))
        return None
    end_progress()
    return result


def switch(store: ConfigStore, name: str, database: str, **how: Any) -> str:
    """Point project ``name`` at ``database`` (``how``: ``switch_to_database``'s options);
    returns the name the old store is kept under."""
    kept: list[str] = []

    def change(config: Config) -> None:
        kept.clear()
        kept.append(switch_to_database(config, name, database, **how)[1].name)

    store.update(change)
    return kept[0]


def print_result(result: Any, as_json: bool, name: str, target: str, switched: str | None) -> None:
    """The verified report (or ``--json``), then where the project points now."""
    if as_json:
        print(json.dumps({**result.to_dict(), "kept_as": switched}, indent=2))
        return
    print(result.report())
    if switched:
        print(f"{name!r} now serves {target}; the old store stays in the menu as {switched!r}.")
