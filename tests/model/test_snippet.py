"""The tracking snippet: valid Python for every store form, and it really logs into the store."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.model.project import Project
from launcher.model.snippet import tracking_snippet
from launcher.model.stores import StoreError


def _calls(snippet: str) -> dict[str, list[object]]:
    """The literal arguments of each ``mlflow.X(...)`` call and of the os.environ assignment."""
    found: dict[str, list[object]] = {}
    for node in ast.walk(ast.parse(snippet)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            found[node.func.attr] = [ast.literal_eval(a) for a in node.args]
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            found["environ"] = [ast.literal_eval(target.slice), ast.literal_eval(node.value)]
    return found


@pytest.mark.parametrize(
    ("store", "uri"),
    [
        (
            r"\\iserver.ct\UserDev\ai\mlflow\dra_emitter_classification\mlruns",
            "file://iserver.ct/UserDev/ai/mlflow/dra_emitter_classification/mlruns",
        ),
        ("//server/share/team/mlruns", "file://server/share/team/mlruns"),
        ("file:////server/share/mlruns", "file://server/share/mlruns"),
        (r"D:\Shared\Repositories\ml\logs\mlruns", "file:///D:/Shared/Repositories/ml/logs/mlruns"),
        (r"D:\My Data\it's\mlruns", "file:///D:/My%20Data/it%27s/mlruns"),
        (r"D:\Données\mlruns", "file:///D:/Donn%C3%A9es/mlruns"),
        ("sqlite:///C:/path/mlflow.db", "sqlite:///C:/path/mlflow.db"),
        (r"C:\path with space\mlflow.db", "sqlite:///C:/path with space/mlflow.db"),
        ("postgresql://me:secret@db.example/mlflow", "postgresql://me:secret@db.example/mlflow"),
        ("postgresql://me:it's\\x@db/mlflow", "postgresql://me:it's\\x@db/mlflow"),
        ("https://mlflow.example:8443/", "https://mlflow.example:8443"),
    ],
)
def test_windows_stores_give_valid_python_with_the_store_uri(store: str, uri: str) -> None:
    snippet = tracking_snippet(Project("p", store, prefix="dra_"), windows=True)
    calls = _calls(snippet)  # ast.parse fails on any escaping mistake
    assert calls["set_tracking_uri"] == [uri]
    assert calls["set_experiment"] == ["dra_my-experiment"]
    assert snippet.splitlines()[0] in ("import os", "import mlflow")


def test_folder_stores_opt_in_to_mlflow_file_store_and_others_do_not() -> None:
    folder = tracking_snippet(Project("p", r"\\srv\share\mlruns"), windows=True)
    sqlite = tracking_snippet(Project("p", r"\\srv\share\mlflow.db"), windows=True)
    assert _calls(folder)["environ"] == ["MLFLOW_ALLOW_FILE_STORE", "true"]
    assert "environ" not in _calls(sqlite)
    assert "import os" not in sqlite


def test_quotes_in_a_posix_sqlite_path_survive() -> None:
    snippet = tracking_snippet(Project("p", '/data/it\'s "here"/mlflow.db'), windows=False)
    assert _calls(snippet)["set_tracking_uri"] == ['sqlite:////data/it\'s "here"/mlflow.db']


def test_no_prefix_means_a_plain_experiment_name_and_no_comment() -> None:
    snippet = tracking_snippet(Project("p", "/home/me/mlruns"), windows=False)
    assert _calls(snippet)["set_experiment"] == ["my-experiment"]
    assert "#" not in snippet.splitlines()[-1]


def test_prefix_with_quotes_and_backslashes_is_escaped() -> None:
    prefix = "team \"a\"\\'b' "
    snippet = tracking_snippet(Project("p", "/srv/mlruns", prefix=prefix), windows=False)
    assert _calls(snippet)["set_experiment"] == [prefix + "my-experiment"]


def test_unparseable_store_raises_store_error() -> None:
    with pytest.raises(StoreError):
        tracking_snippet(Project("p", "ftp://x/y"), windows=False)


@pytest.mark.process
def test_snippet_logs_into_the_real_stores(folder_store: Path, sqlite_store: Path) -> None:
    """Run both snippets with the real MLflow client: the runs land in the project's stores."""
    script = ""
    for store in (folder_store, sqlite_store):
        snippet = tracking_snippet(Project("p", str(store), prefix="snip_"))
        script += snippet + "with mlflow.start_run():\n    mlflow.log_param('k', 1)\n"
        script += "print(mlflow.get_tracking_uri(), mlflow.get_experiment_by_name("
        script += "'snip_my-experiment').experiment_id)\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert str(folder_store) in out.stdout.splitlines()[0]
    names = {p.name for p in folder_store.iterdir()}
    experiment_id = out.stdout.splitlines()[0].split()[-1]
    assert experiment_id in names
    import sqlite3

    with sqlite3.connect(sqlite_store) as db:
        rows = db.execute("select name from experiments where name = 'snip_my-experiment'")
        assert rows.fetchall() == [("snip_my-experiment",)]
