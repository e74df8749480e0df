"""Turning what users paste as a store into exactly what MLflow accepts.

Users paste Windows paths, UNC shares in either slash style, file URIs with two to five slashes,
SQLite URIs and database URLs. MLflow reads several of these wrongly (``file://///host`` becomes
``\\\\\\host``, ``file://C:/x`` is read as a host named ``C``, ``%xx`` is decoded even in raw
paths), so every store is parsed here once, with the semantics of the OS that will serve it
(``windows=`` lets the tests check Windows semantics on Linux), into a canonical URI.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import sys
import unicodedata
import urllib.parse
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath, PureWindowsPath

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SQL_DIALECTS = ("postgresql", "mysql", "mariadb", "mssql", "oracle")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(.*)$", re.S)
_DRIVE = re.compile(r"^[A-Za-z]:(?:[\\/]|$)")
_LOCAL_HOSTS = ("", "localhost", "127.0.0.1")
# \\server\share and //server/share alike: two separators, then a host name. POSIX leaves a
# path that starts with exactly two slashes to the implementation (Linux reads it as '/'), so
# off Windows such a path is a share someone pasted, never a local folder.
_SHARE_START = re.compile(r"^[\\/]{2}[^\\/]")


class StoreKind(str, Enum):
    FOLDER = "folder"
    SQLITE = "sqlite"
    SQL = "sql"
    REMOTE = "remote"

    @property
    def label(self) -> str:
        return {
            "folder": "folder store (mlruns)",
            "sqlite": "SQLite database",
            "sql": "SQL database",
            "remote": "remote tracking server",
        }[self.value]


class StoreError(ValueError):
    """A store text that cannot be served; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Store:
    kind: StoreKind
    uri: str
    """What MLflow gets as ``--backend-store-uri`` (or, for a remote, the server's base URL)."""
    path: str | None = None
    """The filesystem path of a folder or SQLite store, in the serving OS's own spelling."""
    windows: bool = sys.platform == "win32"

    @property
    def is_unc(self) -> bool:
        return bool(self.path) and self.windows and str(self.path).startswith("\\\\")

    @property
    def is_sql(self) -> bool:
        return self.kind in (StoreKind.SQLITE, StoreKind.SQL)

    @property
    def serves_locally(self) -> bool:
        return self.kind is not StoreKind.REMOTE

    @property
    def display(self) -> str:
        return self.path if self.path else redact(self.uri)


def redact(uri: str) -> str:
    """Hide a database password before a URI is shown or logged."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", uri)


def parse_store(
    text: str,
    *,
    windows: bool | None = None,
    base: str | None = None,
    home: str | None = None,
) -> Store:
    """Parse a pasted store into a :class:`Store`.

    ``base`` resolves relative paths (the CLI passes its working directory); without it a
    relative path is an error, since a launcher has no meaningful working directory.
    """
    win = (sys.platform == "win32") if windows is None else windows
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip()
    if not s:
        raise StoreError("The store is empty: give a folder, a SQLite file or a URI.")
    if not win and _SHARE_START.match(s):
        raise _share_elsewhere(s)
    if _DRIVE.match(s):
        if not win:
            raise StoreError(f"'{s}' is a Windows drive path; this machine is not Windows.")
        return _from_path(s, win, base, home)
    m = _SCHEME.match(s)
    if not m:
        return _from_path(s, win, base, home)
    scheme = m.group(1).lower()
    dialect = scheme.split("+", 1)[0]
    if scheme == "file":
        return _from_path(_file_uri_path(s, win), win, base, home)
    if dialect == "sqlite":
        return _sqlite_uri(s, win, base, home)
    if dialect == "postgres":
        s = "postgresql" + s[len("postgres") :]
        dialect = "postgresql"
    if dialect in _SQL_DIALECTS:
        parsed = urllib.parse.urlsplit(s)
        if not parsed.netloc and not parsed.path.strip("/"):
            raise StoreError(f"'{redact(s)}' names no database server or database.")
        return Store(StoreKind.SQL, s, None, win)
    if scheme in ("http", "https"):
        parsed = urllib.parse.urlsplit(s)
        if not parsed.hostname:
            raise StoreError(f"'{s}' has no host name.")
        url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path, "", ""))
        return Store(StoreKind.REMOTE, url.rstrip("/"), None, win)
    raise StoreError(
        f"Unknown scheme '{scheme}:'. Use a folder, a SQLite file (.db), file:, sqlite:, "
        "postgresql:, mysql:, mssql: or an http(s) tracking server."
    )


def _share_elsewhere(text: str) -> StoreError:
    return StoreError(
        f"'{text}' is a Windows share path; on this machine mount the share and give its path."
    )


def _file_uri_path(uri: str, win: bool) -> str:
    """The path of a ``file:`` URI, fixing the spellings MLflow reads wrongly."""
    rest = uri[len("file:") :]
    if not rest.startswith("//"):
        # file:/x or file:C:/x: no authority part.
        return urllib.parse.unquote(rest)
    after = rest[2:]
    if after.startswith("/"):
        # file:///path, file:////host/share, file://///host/share (one slash too many).
        stripped = after.lstrip("/")
        slashes = len(after) - len(stripped)
        decoded = urllib.parse.unquote(stripped)
        if win:
            if _DRIVE.match(decoded):
                return decoded
            if slashes >= 2:
                return "\\\\" + decoded.replace("/", "\\")
            raise StoreError(f"'{uri}' is not a Windows path: expected file:///C:/... or a share.")
        if slashes >= 2:  # file:////host/share and file://///host/share: a share, as on Windows
            raise _share_elsewhere(uri)
        return "/" + decoded
    host, _, path = after.partition("/")
    decoded_path = urllib.parse.unquote(path)
    if re.fullmatch(r"[A-Za-z]:", host):
        # file://C:/x: MLflow would read 'C' as a host name.
        if not win:
            raise StoreError(f"'{uri}' is a Windows drive path; this machine is not Windows.")
        return host + "/" + decoded_path
    if host.lower() in _LOCAL_HOSTS:
        return decoded_path if (win and _DRIVE.match(decoded_path)) else "/" + decoded_path
    if not win:
        raise StoreError(
            f"'{uri}' names the host '{host}': network shares in file URIs only work on Windows. "
            "Mount the share and give its local path."
        )
    return "\\\\" + host + "\\" + decoded_path.replace("/", "\\")


def _sqlite_uri(uri: str, win: bool, base: str | None, home: str | None) -> Store:
    body, _, query = uri.partition("?")
    rest = body.split(":", 1)[1]
    if not rest.startswith("///"):
        raise StoreError(
            f"'{uri}' is an in-memory or malformed SQLite URI; use sqlite:///C:/path/mlflow.db "
            "or sqlite:////absolute/path/mlflow.db."
        )
    raw = rest[3:]
    if not raw:
        raise StoreError(
            "An in-memory SQLite database would lose everything when the server stops."
        )
    store = _from_path(raw, win, base, home, force_sqlite=True)
    if query:
        return Store(store.kind, f"{store.uri}?{query}", store.path, win)
    return store


def _from_path(
    raw: str, win: bool, base: str | None, home: str | None, force_sqlite: bool = False
) -> Store:
    if win:
        raw = raw.replace("/", "\\")
    if raw == "~" or raw.startswith(("~/", "~\\")):
        home_dir = home if home is not None else os.path.expanduser("~")
        raw = home_dir + raw[1:]
    pure: type[PureWindowsPath] | type[PurePosixPath] = PureWindowsPath if win else PurePosixPath
    flavour = ntpath if win else posixpath
    if not win and _SHARE_START.match(raw):
        raise _share_elsewhere(raw)
    if win and raw.startswith("\\\\"):
        unc = PureWindowsPath(raw)
        if not unc.drive or unc.drive.count("\\") < 3 or unc.drive.endswith("\\"):
            raise StoreError(f"'{raw}' is not a complete share path: use \\\\server\\share\\...")
    if not pure(raw).is_absolute():
        if base is None:
            raise StoreError(f"'{raw}' is a relative path; give the full path to the store.")
        raw = flavour.join(base, raw)
    path = flavour.normpath(raw)
    is_sqlite = force_sqlite or path.lower().endswith(SQLITE_SUFFIXES)
    if is_sqlite:
        forward = path.replace("\\", "/") if win else path
        return Store(StoreKind.SQLITE, "sqlite:///" + forward, path, win)
    return Store(StoreKind.FOLDER, pure(path).as_uri(), path, win)


# -- workspaces -----------------------------------------------------------------------------
# MLflow 3.10+ names workspaces like Kubernetes namespaces: 2 to 63 characters, lowercase letters,
# digits and inner hyphens, and not one of its own route names.

WORKSPACE_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
RESERVED_WORKSPACES = frozenset({"workspaces", "api", "ajax-api", "static-files"})
DEFAULT_WORKSPACE = "default"
"""The workspace every SQL store has, holding what was there before workspaces."""


def workspace_problem(name: str) -> str | None:
    """Why MLflow would refuse ``name`` as a workspace name; None when it is fine."""
    if not 2 <= len(name) <= 63:
        return f"workspace name {name!r} must have 2 to 63 characters"
    if not WORKSPACE_PATTERN.match(name):
        return f"workspace name {name!r} may hold lowercase letters, digits and inner hyphens only"
    if name in RESERVED_WORKSPACES:
        return f"workspace name {name!r} is reserved by MLflow"
    return None


def workspace_for(name: str) -> str:
    """A valid workspace name for a project: ``DRA Emitter`` -> ``dra-emitter``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    if len(slug) < 2:
        slug = (slug + "-ws") if slug else "project"
    if slug in RESERVED_WORKSPACES:
        slug += "-project"
    return slug
