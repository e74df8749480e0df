"""Passwords in the OS credential store, never in a file, a log or a command line.

A database store (``postgresql://``, ``mysql://`` ...) or a remote tracking server
(``https://user@host``) may need a password. It lives in the OS credential store through
``keyring`` (Windows Credential Manager, macOS Keychain, Secret Service), under the service
:data:`SERVICE`, keyed by the URL without the password (``scheme://user@host:port/db``, see
:func:`key`). ``PYTHON_KEYRING_BACKEND`` (keyring's own switch) picks another backend; the tests
use it so the real store is never touched.

The config, logs, exports and team catalogs then hold the URL without the password, and a server
process gets it through its environment only (:func:`server_uri` and :func:`database_env`):
PostgreSQL through ``PGPASSWORD`` (libpq reads it) with a password-less URL, any other database
through the full URL in an environment variable its server reads.

Where keyring has no usable backend (a headless Linux without Secret Service), the launcher says
so once (:func:`unavailable_message`, logged as a warning) and keeps today's behaviour: the
password stays in the URL in the private (0600) config.

``keyring`` is imported on first use only: a config without passwords never loads it.
"""

from __future__ import annotations

import logging
import sys
import threading
import urllib.parse
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "mlflow-launcher"
_DATABASE_DIALECTS = ("postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle")
_REMOTE_SCHEMES = ("http", "https")
PG_PASSWORD_VAR = "PGPASSWORD"
TRACKING_USERNAME_VAR = "MLFLOW_TRACKING_USERNAME"
TRACKING_PASSWORD_VAR = "MLFLOW_TRACKING_PASSWORD"


class CredentialError(Exception):
    """The credential store refused a password; the message is for the user."""


# -- URLs (pure) ---------------------------------------------------------------------------------


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


def is_database(url: str) -> bool:
    return _scheme(url).split("+", 1)[0] in _DATABASE_DIALECTS


def is_remote(url: str) -> bool:
    return _scheme(url) in _REMOTE_SCHEMES


def holds_secrets(url: str) -> bool:
    """A URL whose password belongs in the credential store (a database or a remote server)."""
    return is_database(url.strip()) or is_remote(url.strip())


def _netloc_parts(url: str) -> tuple[str, str, str, str] | None:
    """(before the netloc, userinfo, host[:port], after the netloc), or None without '//'."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    end = len(rest)
    for ch in "/?#":
        pos = rest.find(ch)
        if pos != -1:
            end = min(end, pos)
    netloc, after = rest[:end], rest[end:]
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return scheme + "://", "", netloc, after
    return scheme + "://", userinfo, hostport, after


def split(url: str) -> tuple[str, str | None]:
    """``(url without its password, the password or None)``; any other URL comes back whole.

    Everything else of the URL is kept as written (driver, port, query), so a URL without a
    password is returned unchanged.
    """
    text = url.strip()
    if not holds_secrets(text):
        return url, None
    parts = _netloc_parts(text)
    if parts is None:
        return url, None
    head, userinfo, hostport, after = parts
    user, colon, password = userinfo.partition(":")
    if not colon:
        return url, None
    bare = f"{head}{user}@{hostport}{after}" if user else f"{head}{hostport}{after}"
    return bare, urllib.parse.unquote(password)


def username(url: str) -> str:
    parts = _netloc_parts(url.strip())
    if parts is None:
        return ""
    return urllib.parse.unquote(parts[1].partition(":")[0])


def without_userinfo(url: str) -> str:
    """The URL with neither user nor password (what a tracking snippet shows of a remote)."""
    parts = _netloc_parts(url.strip())
    if parts is None:
        return url
    head, _, hostport, after = parts
    return f"{head}{hostport}{after}"


def with_password(url: str, password: str) -> str:
    """``url`` (with or without a password) carrying ``password``: for the server's environment."""
    bare, _ = split(url)
    parts = _netloc_parts(bare.strip())
    if parts is None:
        return url
    head, user, hostport, after = parts
    quoted = urllib.parse.quote(password, safe="")
    return f"{head}{user}:{quoted}@{hostport}{after}"


def key(url: str) -> str:
    """Where a URL's password is kept: ``scheme://user@host:port/path``, no password, no query.

    ``postgres://`` and ``postgresql://`` (and a ``+driver``) name the same database; a remote
    server's key drops a trailing slash.
    """
    bare, _ = split(url)
    bare = bare.strip().split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = bare.partition("://")
    if not sep:
        return bare
    dialect = scheme.lower().split("+", 1)[0]
    if dialect == "postgres":
        dialect = "postgresql"
    if dialect in _REMOTE_SCHEMES:
        rest = rest.rstrip("/")
    return f"{dialect}://{rest}"


# -- the credential store ------------------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, Any] = {}
"""``available`` (bool, once checked) and ``warned`` (the sentence was logged)."""


def reset() -> None:
    """Forget which backend was found: keyring reads PYTHON_KEYRING_BACKEND again (tests)."""
    with _lock:
        _state.clear()
        import keyring.core

        keyring.core.init_backend()


def _backend() -> Any:
    import keyring

    return keyring.get_keyring()


def _usable(backend: Any) -> bool:
    from keyring.backends import chainer, fail

    if isinstance(backend, fail.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def available() -> bool:
    """Whether an OS credential store can keep passwords (checked once, warned once)."""
    with _lock:
        if "available" not in _state:
            try:
                backend = _backend()
                _state["available"] = _usable(backend)
                _state["backend"] = type(backend).__name__
            except Exception as exc:  # a broken backend configuration: same as none
                _state["available"] = False
                _state["backend"] = f"{type(exc).__name__}: {exc}"
            if not _state["available"]:
                log.warning(fallback_message())
                _state["warned"] = True
        return bool(_state["available"])


_STORE_BY_PLATFORM = {
    "win32": "the Windows Credential Manager",
    "darwin": "the macOS Keychain",
}
_KEPT = (
    "database and tracking-server passwords stay in the launcher's private config file "
    "(readable by you only)."
)


def fallback_message(platform: str | None = None) -> str:
    """Why passwords stay in the config, naming the store this platform has.

    Windows and macOS always have one, so there the sentence names it (a launcher built without
    keyring's backend for it, or a store that refused); elsewhere the usual cause is a desktop
    without the Secret Service.
    """
    platform = sys.platform if platform is None else platform
    store = _STORE_BY_PLATFORM.get(platform)
    if store is not None:
        sentence = f"{store} could not be used (keyring found no usable backend): {_KEPT}"
        return sentence[0].upper() + sentence[1:]
    return (
        "No OS credential store is available (keyring found no usable backend, e.g. no Secret "
        f"Service on this desktop): {_KEPT}"
    )


def unavailable_message() -> str | None:
    """The sentence to show when passwords cannot go to the credential store; None when they can.

    Logged once per process (as a warning) the first time it is found out.
    """
    return None if available() else fallback_message()


def _disable(exc: Exception) -> None:
    with _lock:
        _state["available"] = False
        _state["backend"] = f"{type(exc).__name__}: {exc}"
        if not _state.get("warned"):
            log.warning("%s (%s)", fallback_message(), exc)
            _state["warned"] = True


def password_for(url: str) -> str | None:
    """The password of ``url``: the one in the URL itself, else the credential store's."""
    _, inline = split(url)
    if inline is not None:
        return inline
    if not holds_secrets(url) or not available():
        return None
    import keyring

    try:
        return keyring.get_password(SERVICE, key(url))
    except Exception as exc:
        log.warning("Could not read a password from the credential store: %s", exc)
        return None


def missing_password(url: str) -> bool:
    """Whether ``url`` names a user whose password is nowhere yet: ask for it once, then keep it.

    A team catalog never carries a password, so a colleague's first open (or ``add``) of such a
    project lands here. Only a database or remote-server URL with a user and no password of its
    own counts (a user-less URL logs in some other way), and one whose password the credential
    store, when there is one, does not hold.
    """
    text = url.strip()
    if not holds_secrets(text) or not username(text) or split(text)[1] is not None:
        return False
    return password_for(text) is None


_BACKEND_NAMES = {
    "WinVaultKeyring": "Windows Credential Manager",
    "macOS.Keyring": "the macOS Keychain",
    "SecretService.Keyring": "the desktop keyring (Secret Service)",
    "kwallet.DBusKeyring": "KWallet",
}


def backend_name() -> str:
    """The credential store in words ("Windows Credential Manager"), for "Remember in ..."."""
    try:
        backend = _backend()
    except Exception:
        return "the OS credential store"
    module = type(backend).__module__.rsplit(".", 1)[-1]
    for suffix, words in _BACKEND_NAMES.items():
        if f"{module}.{type(backend).__name__}".endswith(suffix):
            return words
    return str(getattr(backend, "name", type(backend).__name__))


def store_password(url: str, password: str) -> None:
    """Keep ``password`` for ``url`` in the credential store; raises :class:`CredentialError`."""
    if not holds_secrets(url):
        raise CredentialError(f"{_shown(url)} is not a database or tracking-server URL.")
    if not available():
        raise CredentialError(fallback_message())
    import keyring

    try:
        keyring.set_password(SERVICE, key(url), password)
    except Exception as exc:
        raise CredentialError(f"The credential store refused the password: {exc}") from exc


def forget(url: str) -> bool:
    """Remove ``url``'s password from the credential store; False when none was there."""
    if not holds_secrets(url) or not available():
        return False
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, key(url))
    except PasswordDeleteError:
        return False
    except Exception as exc:
        log.warning("Could not remove a password from the credential store: %s", exc)
        return False
    return True


def secure(url: str) -> str:
    """``url`` as it may be written to the config: its password moved to the credential store.

    Without a usable store, or when the store refuses, the URL comes back unchanged (the
    password stays in the private config, as before): a project is never left without it.
    """
    bare, password = split(url)
    if password is None or not available():
        return url
    try:
        store_password(bare, password)
    except CredentialError as exc:
        _disable(exc)
        return url
    return bare


def _shown(url: str) -> str:
    bare, password = split(url)
    return bare if password is None else bare.replace("@", ":***@", 1)


# -- what a server process gets ------------------------------------------------------------------


def _is_postgres(url: str) -> bool:
    return _scheme(url).split("+", 1)[0] in ("postgresql", "postgres")


def server_uri(url: str) -> str:
    """The store URI a server process uses; it may carry the password, so environment only.

    PostgreSQL gets the URL without its password (the password goes in ``PGPASSWORD``, see
    :func:`database_env`); other databases the full URL, since their drivers (pymysql) read no
    password variable.
    """
    if not is_database(url.strip()):
        return url
    bare, _ = split(url)
    if _is_postgres(url):
        return bare
    password = password_for(url)
    return bare if password is None else with_password(bare, password)


def database_env(url: str) -> dict[str, str]:
    """Environment variables a server (or schema reader) of ``url``'s database needs.

    ``{"PGPASSWORD": ...}`` for a PostgreSQL store with a known password; nothing otherwise
    (pass :func:`server_uri` itself through an environment variable).
    """
    if not (is_database(url.strip()) and _is_postgres(url)):
        return {}
    password = password_for(url)
    return {} if password is None else {PG_PASSWORD_VAR: password}


def remote_env(url: str) -> dict[str, str]:
    """``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` for a remote tracking server that has a login."""
    if not is_remote(url.strip()):
        return {}
    user = username(url)
    if not user:
        return {}
    env = {TRACKING_USERNAME_VAR: user}
    password = password_for(url)
    if password is not None:
        env[TRACKING_PASSWORD_VAR] = password
    return env
