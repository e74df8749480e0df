"""``mlflow-launcher password NAME``: the password of a project's database or tracking server.

Kept in the OS credential store (``launcher.model.credentials``), keyed by the store URL without
the password, so a team project from a catalog (which never carries a password) is served once
its user gave theirs. Without a credential store the password goes into the project's URL in the
private config instead (a local project only), as before.

``--stdin`` reads it from the first line of standard input (scripts, ``--password-stdin`` style);
otherwise it is asked for without echo. ``--forget`` removes it. ``add`` and ``catalog add`` ask
for a new project's missing password the same way (:func:`give_missing`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterable

from launcher.app.commands.common import EXIT_OK, UsageError, err, find_project, load
from launcher.model import credentials
from launcher.model.config import Config, ConfigStore
from launcher.model.project import Project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "password",
        help="store the password of a project's database or tracking server",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--forget", action="store_true", help="remove the stored password")
    p.set_defaults(handler=run)


def read_password(from_stdin: bool, prompt: str, *, confirm: str = "") -> str:
    """The password from stdin's first line (``--stdin``, ``--password-stdin``) or asked for
    without echo; a new one (``confirm``: the second prompt) is asked for twice.

    The one place a command reads a password: ``password``, ``team-server``, ``add`` and
    ``catalog add`` read it alike.
    """
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    password = getpass.getpass(prompt)
    if confirm and getpass.getpass(confirm) != password:
        raise UsageError("the two passwords differ")
    return password


def give_missing(
    store: ConfigStore, projects: Iterable[Project], from_stdin: bool, *, local: bool
) -> None:
    """The passwords that just-added ``projects`` lack, asked for once (``add``, ``catalog add``).

    A catalog never carries a password, so its colleague gives theirs here: with
    ``--password-stdin`` one line per missing password, in the projects' order (projects on the
    same database and user share one); without it, a prompt on a terminal (Enter skips), else a
    note naming the ``password`` command. Each goes where :func:`apply_password` puts it.
    """
    asked: set[str] = set()
    for project in projects:
        key = credentials.key(project.store)
        if key in asked or not credentials.missing_password(project.store):
            continue
        asked.add(key)
        later = f"mlflow-launcher password {project.name}"
        if not from_stdin and not sys.stdin.isatty():
            err(f"note: {project.name!r} needs the password of {key} once: {later}")
            continue
        prompt = f"Password for {key} ({project.name}; Enter skips): "
        password = read_password(from_stdin, prompt)
        if not password:
            if from_stdin:
                raise UsageError(f"no password on stdin for {project.name!r} ({key})")
            err(f"note: skipped; give it later: {later}")
            continue
        where = apply_password(store, project, password, local=local)
        print(f"Stored the password of {project.name!r} in {where}.")


def check_url(url: str) -> None:
    """Raise :class:`UsageError` for a store whose password the launcher cannot keep."""
    if not credentials.holds_secrets(url):
        raise UsageError("this project's store is not a database or a tracking server: no password")
    if not credentials.username(url):
        example = "https://USER@host" if credentials.is_remote(url) else "postgresql://USER@host/db"
        raise UsageError(f"give the user name in the store URL first ({example})")


def apply_password(store: ConfigStore, project: Project, password: str, *, local: bool) -> str:
    """Keep ``password`` for ``project``'s store; returns where it went, in plain words.

    With a credential store: there, and a password still in a local project's URL is removed.
    Without one: into a local project's URL in the private config. For ``add``/``edit`` with a
    ``--password-stdin`` option, call this after the project is saved.
    """
    check_url(project.store)
    bare, _ = credentials.split(project.store)
    if credentials.available():
        try:
            credentials.store_password(bare, password)
        except credentials.CredentialError as exc:
            raise UsageError(str(exc)) from exc
        if local and bare != project.store:
            _set_store(store, project.name, bare)
        return "the OS credential store"
    if not local:
        raise UsageError(
            f"{credentials.unavailable_message()} A team project cannot keep it: make a local "
            f"copy first (mlflow-launcher import CATALOG {project.name!r})."
        )
    _set_store(store, project.name, credentials.with_password(bare, password))
    return "the launcher's private config (no OS credential store)"


def _set_store(store: ConfigStore, name: str, url: str) -> None:
    def change(config: Config) -> None:
        config.get(name).store = url

    store.update(change)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    project = find_project(config, store.paths, args.name)
    local = config.find(project.name) is not None
    check_url(project.store)  # a UsageError is reported by the CLI (exit code 2)
    if args.forget:
        bare, inline = credentials.split(project.store)
        removed = credentials.forget(bare)
        if local and inline is not None:
            _set_store(store, project.name, bare)
            removed = True
        print(
            f"Forgot the password of {project.name!r}."
            if removed
            else f"No password was stored for {project.name!r}."
        )
        return EXIT_OK
    password = read_password(args.stdin, f"Password for {credentials.key(project.store)}: ")
    if not password:
        raise UsageError("no password given")
    where = apply_password(store, project, password, local=local)
    message = credentials.unavailable_message()
    if message:
        err(f"note: {message}")
    print(f"Stored the password of {project.name!r} in {where}.")
    return EXIT_OK
