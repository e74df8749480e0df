"""A project's experiments from real stores: read directly (no server) and over REST."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.model import links
from launcher.model.naming import NamingError
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.server.process import MlflowServer
from launcher.server.stores import experiments
from launcher.server.stores.experiments import StoreNotReadable
from tests import naming_stores
from tests.model.test_links import ui_ids
from tests.naming_stores import DELETED, NAMES, PREFIX, PROJECT_ACTIVE
from tests.server.helpers import tree_hash
from tests.started import link


@pytest.fixture
def named(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return naming_stores.stores(tmp_path_factory.getbasetemp(), tmp_path / "named")


@pytest.mark.parametrize("kind", ["folder", "sqlite"])
def test_store_is_read_without_a_server_deleted_names_included(
    kind: str, named: dict[str, Path]
) -> None:
    store = named[kind]
    before = tree_hash(store.parent)
    found = experiments.read_store(Project("P", str(store)).parsed_store())
    assert {e.name for e in found} == {*NAMES, "Default"}
    assert {e.name for e in found if not e.active} == set(DELETED)
    assert all(e.creation_time > 0 for e in found)
    assert tree_hash(store.parent) == before, "reading wrote into or beside the store"


@pytest.mark.parametrize("kind", ["folder", "sqlite"])
def test_next_name_from_the_store_skips_gaps_deleted_and_non_conforming(
    kind: str, named: dict[str, Path], paths: AppPaths
) -> None:
    project = Project("DRA", str(named[kind]), prefix=PREFIX)

    def propose(stage: str) -> str:
        return experiments.propose_name(project, stage, "next try", paths)

    # train: 001, 002, 004 active and 005 deleted (its name is still reserved): 006.
    assert propose("train") == "dra_train_006_next_try"
    assert propose("eval") == "dra_eval_002_next_try"
    assert propose("prep") == "dra_prep_02_next_try"  # the width in use for the stage
    assert propose("deploy") == "dra_deploy_001_next_try"


def test_proposing_needs_a_prefix_and_checks_input_before_reading(
    named: dict[str, Path], paths: AppPaths, tmp_path: Path
) -> None:
    with pytest.raises(NamingError, match="no experiment prefix"):
        experiments.propose_name(Project("Whole", str(named["folder"])), "train", "x", paths)
    assert (
        experiments.propose_name(
            Project("Whole", str(named["folder"])), "train", "x", paths, prefix="other_"
        )
        == "other_train_010_x"
    )
    gone = Project("Gone", str(tmp_path / "gone" / "mlruns"), prefix="g_")
    with pytest.raises(NamingError):
        experiments.propose_name(gone, "two words", "x", paths)
    with pytest.raises(FileNotFoundError):
        experiments.propose_name(gone, "train", "x", paths)


def test_a_database_server_store_needs_mlflow(paths: AppPaths) -> None:
    project = Project("PG", "postgresql://u:p@db.invalid/ml", prefix="p_")
    with pytest.raises(StoreNotReadable):
        experiments.existing_names(project, paths, allow_temporary_server=False)


def test_a_sqlite_file_without_mlflow_tables_is_not_readable(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "other.db"
    sqlite3.connect(db).close()
    with pytest.raises(StoreNotReadable):
        experiments.read_sqlite_store(str(db))


def test_an_old_sqlite_schema_without_time_columns_is_read(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE experiments (experiment_id INTEGER, name TEXT, lifecycle_stage TEXT)"
        )
        conn.execute("INSERT INTO experiments VALUES (1, 'dra_train_003_x', 'deleted')")
    conn.close()
    [old] = experiments.read_sqlite_store(str(db))
    assert (old.id, old.name, old.active, old.creation_time) == ("1", "dra_train_003_x", False, 0)


@pytest.mark.process
def test_project_view_menu_and_names_from_a_running_server(
    named: dict[str, Path], paths: AppPaths, servers: list
) -> None:
    store = named["folder"]
    server = MlflowServer(Project("Served", str(store)), paths)
    servers.append(server)
    url = server.start()
    served = link(server)  # what the tray passes: its key goes to the REST header
    project = Project("DRA", str(store), prefix=PREFIX)

    active = experiments.fetch(served)
    everything = experiments.fetch(served, include_deleted=True)
    assert {e.name for e in active} == {*NAMES, "Default"} - set(DELETED)
    assert {e.name for e in everything} == {*NAMES, "Default"}
    ids = {e.name: e.id for e in everything}

    # The project view: the compare route with exactly the prefix's active experiments.
    view = experiments.open_url_for(project, served)
    assert view.startswith(url + "#/compare-experiments/s?experiments=")
    assert sorted(ui_ids(view)) == sorted(ids[n] for n in PROJECT_ACTIVE)
    assert ids["dra_train_005_abandoned"] not in ui_ids(view)
    assert experiments.open_url_for(Project("All", str(store)), url) == url
    assert experiments.open_url_for(Project("N", str(store), prefix="nobody_"), url) == url

    # The submenu: stages newest first, Other last, deep links, More... with the rest.
    menu = experiments.read_menu(project, served, per_stage=2)
    assert menu.project_url == view and menu.total == len(PROJECT_ACTIVE)
    assert [(g.stage, [i.label for i in g.items], g.hidden) for g in menu.groups] == [
        ("prep", ["dra_prep_01_clean"], 0),
        ("eval", ["dra_eval_001_holdout"], 0),
        ("train", ["dra_train_004_after_gap", "dra_train_002_bigger_lr"], 1),
        ("Other", ["dra_emitter_train_001_x", "dra_train_x_bad"], 1),
    ]
    train = menu.groups[2]
    assert train.items[0].url == links.experiment_url(url, ids["dra_train_004_after_gap"])
    assert sorted(ui_ids(train.more_url)) == sorted(
        ids[n]
        for n in ("dra_train_001_baseline", "dra_train_002_bigger_lr", "dra_train_004_after_gap")
    )

    # Names from the server agree with names from the store.
    from_server = experiments.propose_name(project, "train", "x", paths, base_url=served)
    assert from_server == experiments.propose_name(project, "train", "x", paths)
    assert from_server == "dra_train_006_x"

    server.stop()
    assert experiments.open_url_for(project, served, timeout=2) == url  # never fails to open
    with pytest.raises(OSError):
        experiments.read_menu(project, served, timeout=2)
