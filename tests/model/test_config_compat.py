"""Schema 1 stays readable both ways: old files load, unknown keys are kept, catalogs persist."""

from __future__ import annotations

import json

from launcher.model.config import ConfigStore
from launcher.model.paths import AppPaths

OLD = {
    "schema": 1,
    "settings": {"open_browser": False, "last_project": "A"},
    "projects": [{"name": "A", "store": "/srv/a/mlruns", "prefix": "a_"}],
}
"""A config from before catalogs existed: no 'catalogs' key."""


def write(paths: AppPaths, data: dict) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(json.dumps(data), encoding="utf-8")


def test_a_config_without_catalogs_loads(paths: AppPaths) -> None:
    write(paths, OLD)
    loaded = ConfigStore(paths).load()
    assert loaded.problem is None
    assert loaded.config.catalogs == [] and loaded.config.get("A").prefix == "a_"


def test_unknown_keys_load_and_survive_an_edit(paths: AppPaths) -> None:
    newer = {
        **OLD,
        "catalogs": ["/share/team.json", 42],
        "groups": {"work": ["A"]},
        "settings": {**OLD["settings"], "theme": "dark"},
        "projects": [{**OLD["projects"][0], "colour": "red"}],
    }
    write(paths, newer)
    store = ConfigStore(paths)
    loaded = store.load()
    assert loaded.problem is None
    assert loaded.config.catalogs == ["/share/team.json"]  # a non-path entry is ignored
    store.update(lambda c: c.catalogs.append("/share/other.json"))
    on_disk = json.loads(paths.config_file.read_text(encoding="utf-8"))
    assert on_disk["groups"] == {"work": ["A"]}  # kept for the launcher that wrote it
    assert on_disk["schema"] == 1
    assert on_disk["catalogs"] == ["/share/team.json", "/share/other.json"]
    assert ConfigStore(paths).load().config.catalogs == on_disk["catalogs"]


def test_a_config_from_the_warm_spares_loads(paths: AppPaths) -> None:
    """Before one host served every project, a tray kept ``warm_spares`` spares (issue 22)."""
    write(paths, {**OLD, "settings": {**OLD["settings"], "keep_warm": False, "warm_spares": 3}})
    loaded = ConfigStore(paths).load()
    assert loaded.problem is None and loaded.config.settings.keep_warm is False
    assert not hasattr(loaded.config.settings, "warm_spares")
