"""Store discovery on a share-like tree: real stores, look-alikes, a link loop, deep folders."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from launcher.model.project import Project
from launcher.model.stores import StoreKind
from launcher.server.stores import discovery
from launcher.server.stores.discovery import Progress, discover, propose_name
from tests import naming_stores
from tests.server.helpers import tree_hash


@pytest.fixture
def share(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return naming_stores.stores(tmp_path_factory.getbasetemp(), tmp_path / "copies")["share"]


def rel(root: Path, found: list[discovery.Found]) -> dict[str, tuple[str, str, int | None]]:
    return {
        str(Path(f.path).relative_to(root)): (f.kind.value, f.name, f.experiments) for f in found
    }


def test_finds_folder_and_sqlite_stores_and_ignores_look_alikes(share: Path) -> None:
    before = tree_hash(share)
    result = discover(str(share))
    assert rel(share, result.found) == {
        "ai/mlflow/dra/mlruns": ("folder", "dra", 3),  # two named + Default
        "ai/mlflow/emitter/tracking.db": ("sqlite", "emitter", 2),
    }
    # The look-alikes are there, and were looked at.
    assert (share / "tools" / "conda-recipe" / "1" / "meta.yaml").is_file()
    assert (share / "tools" / "notes.db").is_file() and (share / "tools" / "mlruns").is_dir()
    assert result.unreadable == 0 and not result.cancelled
    assert result.depth_limited  # ai/archive/old/deep/legacy/mlruns lies deeper than 4
    assert tree_hash(share) == before, "discovery wrote something"


def test_depth_is_honoured_and_stores_in_artifacts_or_behind_links_are_not_found(
    share: Path,
) -> None:
    shallow = discover(str(share), max_depth=5)
    assert "ai/archive/old/deep/legacy/mlruns" not in rel(share, shallow.found)
    deep = discover(str(share), max_depth=12)
    assert set(rel(share, deep.found)) == {
        "ai/mlflow/dra/mlruns",
        "ai/mlflow/emitter/tracking.db",
        "ai/archive/old/deep/legacy/mlruns",
    }
    assert not deep.depth_limited
    # What was skipped is really there: mlruns copies logged as artifacts (one inside a store,
    # one in a SQLite store's artifact folder walked before the store), and a link loop.
    nested = list(share.glob("ai/aaa-artifacts/mlruns/*/*/artifacts/backup/0/meta.yaml"))
    inside = list(share.glob("ai/mlflow/dra/mlruns/*/*/artifacts/backup/0/meta.yaml"))
    assert nested and inside
    assert (share / "ai" / "links" / "up").resolve() == (share / "ai").resolve()


def test_the_artifact_filter_is_what_drops_the_logged_copy(
    share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without artifact locations, the copy an experiment logged would pass for a store."""
    monkeypatch.setattr(discovery, "_local_path", lambda location: None)
    found = rel(share, discover(str(share), max_depth=12).found)
    assert any(p.startswith("ai/aaa-artifacts/") for p in found)


def test_names_are_unique_and_existing_stores_are_marked(share: Path) -> None:
    dra_store = share / "ai" / "mlflow" / "dra" / "mlruns"
    existing = [Project("DRA", str(dra_store)), Project("emitter", "/elsewhere/mlruns")]
    result = discover(str(share), existing=existing)
    by_path = {str(Path(f.path).relative_to(share)): f for f in result.found}
    dra = by_path["ai/mlflow/dra/mlruns"]
    assert dra.known_as == "DRA" and dra.name == "dra (2)"
    emitter = by_path["ai/mlflow/emitter/tracking.db"]
    assert emitter.known_as is None and emitter.name == "emitter (2)"
    assert emitter.to_project() == Project("emitter (2)", emitter.path)


def test_cancel_stops_the_walk_and_progress_is_reported(share: Path) -> None:
    cancel = threading.Event()
    reports: list[Progress] = []

    def progress(p: Progress) -> None:
        reports.append(p)
        cancel.set()  # the user presses Cancel as soon as the first folder shows up

    result = discover(str(share), 12, cancel, progress)
    assert result.cancelled and result.found == [] and result.scanned == 1
    assert reports[0].current == str(share) and reports[-1].scanned == 1

    seen: list[Progress] = []
    full = discover(str(share), 12, threading.Event(), seen.append)
    assert not full.cancelled and seen[-1].scanned == full.scanned and seen[-1].found == 3


def test_unreadable_folders_are_skipped_and_counted(
    share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.scandir
    locked = str(share / "ai" / "mlflow" / "emitter")

    def scandir(path: str) -> object:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = discover(str(share))
    assert result.unreadable == 1
    assert set(rel(share, result.found)) == {"ai/mlflow/dra/mlruns"}


def test_root_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        discover(str(tmp_path / "missing"))


def test_a_store_given_as_root_is_found(share: Path) -> None:
    root = share / "ai" / "mlflow" / "dra" / "mlruns"
    [found] = discover(str(root), max_depth=0).found
    assert found.path == str(root) and found.kind is StoreKind.FOLDER and found.name == "dra"


@pytest.mark.parametrize(
    ("path", "windows", "expected"),
    [
        (
            r"\\server\share\ai\mlflow\dra_emitter_classification\mlruns",
            True,
            "dra_emitter_classification",
        ),
        ("//server/share/ai/mlflow/dra/mlruns", True, "dra"),
        (r"\\server\share\mlruns", True, "MLflow"),
        (r"D:\Shared\ml\logs\mlruns", True, "logs"),
        (r"C:\work\proj\mlflow.db", True, "proj"),
        ("/srv/team/dra_tracking.db", False, "dra_tracking"),
        ("/srv/team/vision/mlflow/data/tracking.sqlite", False, "vision"),
    ],
)
def test_proposed_names(path: str, windows: bool, expected: str) -> None:
    assert propose_name(path, windows=windows) == expected


def test_proposed_names_avoid_taken_ones() -> None:
    assert propose_name("/s/dra/mlruns", ["DRA", "dra (2)"], windows=False) == "dra (3)"


def test_artifact_copies_are_dropped_when_the_root_is_reached_through_a_link(
    share: Path, tmp_path: Path
) -> None:
    """Artifact locations are recorded by real path; the walk may go through a link or a
    mapped drive. Both sides must be compared resolved, or logged copies pass for stores."""
    link = tmp_path / "mapped-drive"
    link.symlink_to(share, target_is_directory=True)
    found = rel(link, discover(str(link), max_depth=12).found)
    assert set(found) == {
        "ai/mlflow/dra/mlruns",
        "ai/mlflow/emitter/tracking.db",
        "ai/archive/old/deep/legacy/mlruns",
    }
