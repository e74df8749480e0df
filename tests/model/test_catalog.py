"""Team sharing: export/import without machine settings, catalogs that survive vanishing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from launcher.model import catalog
from launcher.model.catalog import (
    CatalogInvalid,
    Catalogs,
    CatalogUnreadable,
    import_projects,
    merge,
)
from launcher.model.config import Config, ConfigStore, config_from_dict
from launcher.model.paths import AppPaths
from launcher.model.project import Project

MINE = Project(
    name="DRA",
    store="/srv/share/ai/mlflow/dra/mlruns",
    prefix="dra_",
    python="/home/me/venv/bin/python",
    extra_args=["--static-prefix", "/ml"],
    artifacts="/home/me/artifacts",
    host="0.0.0.0",
    port=5055,
)


def test_export_import_round_trip_drops_machine_settings(tmp_path: Path, paths: AppPaths) -> None:
    target = tmp_path / "team.json"
    catalog.write_export(target, [MINE])
    on_disk = json.loads(target.read_text(encoding="utf-8"))
    assert on_disk["schema"] == 1
    assert on_disk["projects"] == [
        {
            "name": "DRA",
            "store": "/srv/share/ai/mlflow/dra/mlruns",
            "prefix": "dra_",
            "extra_args": ["--static-prefix", "/ml"],
        }
    ]
    assert "python" not in target.read_text(encoding="utf-8")
    config_from_dict(on_disk)  # the config's own format: the config reader accepts it

    store = ConfigStore(paths)
    result: list[catalog.ImportResult] = []
    store.update(lambda c: result.append(import_projects(c, catalog.read_file(target))))
    imported = store.load().config.get("dra")
    assert [p.name for p in result[0].added] == ["DRA"]
    assert imported == Project("DRA", MINE.store, "dra_", extra_args=["--static-prefix", "/ml"])
    assert imported.python == "" and imported.host == "127.0.0.1" and imported.port == 0


def test_importing_a_raw_config_json_strips_machine_settings_too(tmp_path: Path) -> None:
    raw = Config(projects=[MINE]).to_dict()
    assert raw["projects"][0]["python"]
    (tmp_path / "config.json").write_text(json.dumps(raw), encoding="utf-8")
    [project] = catalog.read_file(tmp_path / "config.json")
    assert project.python == "" and project.artifacts == "" and project.port == 0


def test_import_never_overwrites_and_checks_requested_names() -> None:
    config = Config(projects=[Project("DRA", "/mine/mlruns", python="/py")])
    incoming = [Project("dra", "/theirs/mlruns"), Project("Emitter", "/e/mlruns")]
    result = import_projects(config, incoming)
    assert result.skipped == ["dra"] and [p.name for p in result.added] == ["Emitter"]
    assert config.get("DRA").store == "/mine/mlruns" and config.get("DRA").python == "/py"
    with pytest.raises(CatalogInvalid, match="Nope"):
        import_projects(Config(), incoming, ["Nope"])
    only = Config()
    import_projects(only, incoming, ["EMITTER"])
    assert [p.name for p in only.projects] == ["Emitter"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, CatalogUnreadable),
        ("{not json", CatalogInvalid),
        ('{"schema": 2, "projects": []}', CatalogInvalid),
        ('{"schema": 1, "projects": [{"name": "a"}]}', CatalogInvalid),
        (b"\xff\xfe\x00bad", CatalogInvalid),
    ],
)
def test_bad_files_are_named_errors(
    tmp_path: Path, content: str | bytes | None, error: type[Exception]
) -> None:
    path = tmp_path / "catalog.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error):
        catalog.read_file(path)


def test_a_bom_written_by_notepad_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(catalog.export_dict([MINE])).encode())
    assert [p.name for p in catalog.read_file(path)] == ["DRA"]


def test_subscription_survives_the_catalog_vanishing(tmp_path: Path, paths: AppPaths) -> None:
    share = tmp_path / "share" / "team.json"
    catalog.write_export(share, [MINE, Project("Emitter", "/e/mlruns")])
    catalogs = Catalogs(paths)
    [fresh] = catalogs.refresh([str(share)])
    assert not fresh.stale and [p.name for p in fresh.projects] == ["DRA", "Emitter"]
    read_at = fresh.fetched_at

    share.unlink()
    [gone] = catalogs.refresh([str(share)])
    assert gone.stale and "does not exist" in (gone.error or "")
    assert [p.name for p in gone.projects] == ["DRA", "Emitter"]  # the last known copy
    assert gone.fetched_at == read_at
    assert "last known copy" in gone.describe()
    # A later start (a new Catalogs, cache only) still has them, and knows they are stale.
    [later] = Catalogs(paths).cached([str(share)])
    assert [p.name for p in later.projects] == ["DRA", "Emitter"] and later.stale

    catalog.write_export(share, [Project("Emitter", "/e2/mlruns")])  # the share is back
    [back] = catalogs.refresh([str(share)])
    assert not back.stale and [p.store for p in back.projects] == ["/e2/mlruns"]


def test_a_broken_catalog_keeps_the_last_good_copy(tmp_path: Path, paths: AppPaths) -> None:
    path = tmp_path / "team.json"
    catalog.write_export(path, [MINE])
    catalogs = Catalogs(paths)
    catalogs.refresh([str(path)])
    path.write_text("{half a file", encoding="utf-8")
    [status] = catalogs.refresh([str(path)])
    assert status.stale and [p.name for p in status.projects] == ["DRA"]


def test_never_read_catalog_is_empty_and_says_so(tmp_path: Path, paths: AppPaths) -> None:
    [status] = Catalogs(paths).refresh([str(tmp_path / "nowhere.json")])
    assert status.projects == [] and status.fetched_at is None
    assert "no copy known yet" in status.describe()


def test_catalog_files_are_never_written(tmp_path: Path, paths: AppPaths) -> None:
    path = tmp_path / "share" / "team.json"
    catalog.write_export(path, [MINE])
    os.chmod(path, 0o444)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    catalogs = Catalogs(paths)
    catalogs.refresh([str(path)])
    catalogs.cached([str(path)])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert list(path.parent.iterdir()) == [path]


def test_local_wins_then_first_catalog(paths: AppPaths, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    catalog.write_export(a, [Project("dra", "/team-a/mlruns"), Project("Shared", "/a/mlruns")])
    catalog.write_export(b, [Project("SHARED", "/b/mlruns"), Project("Only B", "/ob/mlruns")])
    statuses = Catalogs(paths).refresh([str(a), str(b)])
    merged = merge([Project("DRA", "/mine/mlruns")], statuses)
    assert [(x.project.name, x.catalog) for x in merged.projects] == [
        ("DRA", None),
        ("Shared", str(a)),
        ("Only B", str(b)),
    ]
    assert [(x.project.name, x.catalog) for x in merged.shadowed] == [
        ("dra", str(a)),
        ("SHARED", str(b)),
    ]
    found = merged.find("only b")
    assert found is not None and found.team and found.read_only
    dra = merged.find("dra")
    assert dra is not None and not dra.team and dra.project.store == "/mine/mlruns"
