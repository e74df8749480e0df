"""The commands the launcher runs in a project's Python: every child process starts here.

This package runs inside the project's Python environment, which may not have the launcher
installed, so it imports nothing from ``launcher`` and only the standard library at module
level; the launcher runs ``python __main__.py COMMAND ...`` (``__main__.py`` makes the folder a
package there) or, frozen, ``launcher.exe --serve-child COMMAND ...``.

Commands:
  probe                      print JSON about this environment's MLflow (``probe.py``)
  host --host H [--priority low|normal]
                             a host: import MLflow's server (at low priority unless told
                             otherwise), then serve the projects the launcher mounts through
                             stdin, each on its own port (``host.py``; what the tray uses)
  serve --host H --port P    serve one project in this process (``serve.py``)
  fallback --host H --port P -- ARGS   ``python -m mlflow server --workers 1 ARGS`` as a child
  revision [URI]             print JSON with a SQL store's alembic revision and tables
  upgrade [URI]              upgrade a SQL store's schema (only ever run on explicit request)
                             (``schema.py``; the URI comes in ``protocol.STORE_URI_VAR``)
  move-to-sqlite SOURCE TARGET   move a folder store into a new SQLite file
                             (``move/to_sqlite.py``)
  move-to-database SOURCE    move a SQLite store into the database named in the environment
                             (``move/to_database.py``; never in the argv)

With ``--watch-stdin`` the process exits when its standard input closes: the launcher holds the
other end, so even a SIGKILLed launcher takes its children with it (``stdin_pipe.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import protocol, stdin_pipe


def main(argv: list[str] | None = None) -> int:
    """Run one command; frozen, the exe calls this with its arguments after the flag."""
    parser = argparse.ArgumentParser(prog="launcher-serve-child")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("probe")
    p = sub.add_parser("host")
    p.add_argument("--host", required=True)
    p.add_argument("--priority", choices=("low", "normal"), default="low")
    for name in ("serve", "fallback"):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--watch-stdin", action="store_true")
        p.add_argument("extra", nargs="*")
    for name in ("revision", "upgrade"):
        sub.add_parser(name).add_argument("uri", nargs="?")
    p = sub.add_parser("move-to-sqlite")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--registry")
    p.add_argument("--watch-stdin", action="store_true")
    p = sub.add_parser("move-to-database")
    p.add_argument("source")
    p.add_argument("--watch-stdin", action="store_true")
    args = parser.parse_args(argv)
    if args.command in ("move-to-sqlite", "move-to-database"):
        return _move(args)
    if args.command == "probe":
        from . import probe

        print(json.dumps(probe.probe()))
        return 0
    if args.command == "serve":
        from . import serve

        return serve.serve(args.host, args.port, args.watch_stdin)
    if args.command == "host":
        from . import host

        return int(host.run(args.host, low=args.priority == "low"))
    if args.command == "fallback":
        from . import serve

        return serve.fallback(args.host, args.port, args.extra, args.watch_stdin)
    if args.command in ("revision", "upgrade") and not args.uri:
        args.uri = os.environ.get(protocol.STORE_URI_VAR, "")
        if not args.uri:
            parser.error(f"give a store URI or set {protocol.STORE_URI_VAR}")
    from . import schema

    if args.command == "revision":
        try:
            print(json.dumps(schema.revision(args.uri)))
        except Exception as exc:
            protocol.error("store", f"{type(exc).__name__}: {exc}")
            return protocol.EXIT_STORE_FAILED
        return 0
    return schema.upgrade(args.uri)


def _move(args: argparse.Namespace) -> int:
    """A move, cancelled by the launcher closing the pipe: the process ends without a commit.

    It exits through ``os._exit``: the thread blocked reading the pipe would make a normal
    interpreter shutdown abort.
    """
    go = stdin_pipe.Commit()
    if args.watch_stdin:
        stdin_pipe.follow(lambda: os._exit(protocol.EXIT_FAILED), go.on_line)
    if args.command == "move-to-sqlite":
        from .move import to_sqlite

        code = int(to_sqlite.move(args.source, args.target, args.registry))
    else:
        from .move import to_database

        code = int(to_database.move(args.source, go if args.watch_stdin else None))
    if not args.watch_stdin:
        return code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
