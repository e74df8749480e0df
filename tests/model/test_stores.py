"""Every store form users paste, with Windows semantics checked on any OS."""

from __future__ import annotations

import pytest

from launcher.model.stores import StoreError, StoreKind, parse_store, redact

UNC = r"\\iserver.ct\UserDev\ai\mlflow\dra_emitter_classification\mlruns"
UNC_URI = "file://iserver.ct/UserDev/ai/mlflow/dra_emitter_classification/mlruns"


@pytest.mark.parametrize(
    "text",
    [
        UNC,
        "//iserver.ct/UserDev/ai/mlflow/dra_emitter_classification/mlruns",
        "file://iserver.ct/UserDev/ai/mlflow/dra_emitter_classification/mlruns",
        "file:////iserver.ct/UserDev/ai/mlflow/dra_emitter_classification/mlruns",
        # One slash too many: MLflow would make \\\host of it; we repair it.
        "file://///iserver.ct/UserDev/ai/mlflow/dra_emitter_classification/mlruns",
        f'"{UNC}"',
        f"  {UNC}\\  ",
    ],
)
def test_unc_forms_all_become_the_same_share(text: str) -> None:
    store = parse_store(text, windows=True)
    assert store.kind is StoreKind.FOLDER
    assert store.path == UNC
    assert store.uri == UNC_URI
    assert store.is_unc


@pytest.mark.parametrize(
    ("text", "path", "uri"),
    [
        (
            r"D:\Shared\Repositories\ml\logs\mlruns",
            r"D:\Shared\Repositories\ml\logs\mlruns",
            "file:///D:/Shared/Repositories/ml/logs/mlruns",
        ),
        ("D:/Shared/ml/mlruns", r"D:\Shared\ml\mlruns", "file:///D:/Shared/ml/mlruns"),
        ("file:///D:/Shared/ml/mlruns", r"D:\Shared\ml\mlruns", "file:///D:/Shared/ml/mlruns"),
        # MLflow reads file://C:/x as a host named C; it is a drive.
        ("file://C:/Users/me/mlruns", r"C:\Users\me\mlruns", "file:///C:/Users/me/mlruns"),
        ("file://localhost/C:/mlruns", r"C:\mlruns", "file:///C:/mlruns"),
        # %xx in a URI is decoded once; in the canonical URI a literal % and spaces are quoted.
        ("file:///D:/My%20Runs/mlruns", r"D:\My Runs\mlruns", "file:///D:/My%20Runs/mlruns"),
        (r"D:\100%done\mlruns", r"D:\100%done\mlruns", "file:///D:/100%25done/mlruns"),
        (
            r"C:\Users\me\..\shared\mlruns",
            r"C:\Users\shared\mlruns",
            "file:///C:/Users/shared/mlruns",
        ),
    ],
)
def test_windows_drive_paths(text: str, path: str, uri: str) -> None:
    store = parse_store(text, windows=True)
    assert (store.kind, store.path, store.uri) == (StoreKind.FOLDER, path, uri)
    assert not store.is_unc


@pytest.mark.parametrize(
    ("text", "path", "uri"),
    [
        ("sqlite:///C:/path/mlflow.db", r"C:\path\mlflow.db", "sqlite:///C:/path/mlflow.db"),
        (r"sqlite:///C:\path\mlflow.db", r"C:\path\mlflow.db", "sqlite:///C:/path/mlflow.db"),
        (r"C:\path\mlflow.db", r"C:\path\mlflow.db", "sqlite:///C:/path/mlflow.db"),
        (
            r"\\srv\share\ml\mlflow.sqlite",
            r"\\srv\share\ml\mlflow.sqlite",
            "sqlite://///srv/share/ml/mlflow.sqlite",
        ),
    ],
)
def test_windows_sqlite(text: str, path: str, uri: str) -> None:
    store = parse_store(text, windows=True)
    assert (store.kind, store.path, store.uri) == (StoreKind.SQLITE, path, uri)


@pytest.mark.parametrize(
    ("text", "kind", "path", "uri"),
    [
        ("/home/me/mlruns", StoreKind.FOLDER, "/home/me/mlruns", "file:///home/me/mlruns"),
        ("~/mlruns", StoreKind.FOLDER, "/home/me/mlruns", "file:///home/me/mlruns"),
        ("file:///home/me/mlruns", StoreKind.FOLDER, "/home/me/mlruns", "file:///home/me/mlruns"),
        (
            "/data/a b/100%/mlruns",
            StoreKind.FOLDER,
            "/data/a b/100%/mlruns",
            "file:///data/a%20b/100%25/mlruns",
        ),
        (
            "sqlite:////abs/path/mlflow.db",
            StoreKind.SQLITE,
            "/abs/path/mlflow.db",
            "sqlite:////abs/path/mlflow.db",
        ),
        (
            "/abs/path/mlflow.db",
            StoreKind.SQLITE,
            "/abs/path/mlflow.db",
            "sqlite:////abs/path/mlflow.db",
        ),
    ],
)
def test_posix_paths(text: str, kind: StoreKind, path: str, uri: str) -> None:
    store = parse_store(text, windows=False, home="/home/me")
    assert (store.kind, store.path, store.uri) == (kind, path, uri)


def test_relative_paths_need_a_base() -> None:
    with pytest.raises(StoreError, match="relative"):
        parse_store("mlruns", windows=False)
    assert parse_store("mlruns", windows=False, base="/work").path == "/work/mlruns"
    assert (
        parse_store("sqlite:///mlflow.db", windows=False, base="/w").uri == "sqlite:////w/mlflow.db"
    )
    assert parse_store("mlruns", windows=True, base="D:\\proj").path == r"D:\proj\mlruns"


@pytest.mark.parametrize(
    ("text", "uri"),
    [
        ("postgresql://u:pw@db.example:5432/mlflow", "postgresql://u:pw@db.example:5432/mlflow"),
        ("postgres://u@db/mlflow", "postgresql://u@db/mlflow"),
        ("mysql+pymysql://u:pw@db/mlflow", "mysql+pymysql://u:pw@db/mlflow"),
        ("mssql+pyodbc://u:pw@dsn", "mssql+pyodbc://u:pw@dsn"),
    ],
)
def test_sql_urls_pass_through(text: str, uri: str) -> None:
    for windows in (True, False):
        store = parse_store(text, windows=windows)
        assert (store.kind, store.uri, store.path) == (StoreKind.SQL, uri, None)


def test_remote_server_drops_trailing_slash_and_fragment() -> None:
    store = parse_store("http://mlflow.team:5000/#/experiments/3", windows=False)
    assert (store.kind, store.uri) == (StoreKind.REMOTE, "http://mlflow.team:5000")
    assert not store.serves_locally


@pytest.mark.parametrize(
    ("text", "windows", "match"),
    [
        ("", True, "empty"),
        ("s3://bucket/mlruns", True, "Unknown scheme"),
        ("sqlite://", True, "in-memory"),
        ("sqlite:///", False, "in-memory"),
        (r"\\server", True, "share"),
        (r"\\server\share\mlruns", False, "Windows share"),
        # The same share with slashes is no local folder off Windows either (Linux reads '//x'
        # as '/x'), nor its four- and five-slash file URIs, nor a SQLite file on it.
        ("//server/share/mlruns", False, "Windows share"),
        ("/\\server/share/mlruns", False, "Windows share"),
        ("file:////server/share/mlruns", False, "Windows share"),
        ("file://///server/share/mlruns", False, "Windows share"),
        ("sqlite://///server/share/mlflow.db", False, "Windows share"),
        (r"C:\mlruns", False, "Windows drive"),
        ("file://server/share/mlruns", False, "only work on Windows"),
        ("http://", False, "no host"),
    ],
)
def test_refusals_say_why(text: str, windows: bool, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        parse_store(text, windows=windows)


def test_three_slashes_are_still_a_local_path_off_windows() -> None:
    assert parse_store("///data/mlruns", windows=False).path == "/data/mlruns"
    assert parse_store("file:///data/mlruns", windows=False).path == "/data/mlruns"


def test_redact_hides_passwords_only() -> None:
    assert redact("postgresql://me:secret@db/x") == "postgresql://me:***@db/x"
    assert redact("postgresql://me@db/x") == "postgresql://me@db/x"
