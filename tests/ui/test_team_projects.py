"""Team projects for the menu: cached at once, refreshed in the background, surviving a vanished
catalog, a local name winning."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from launcher.model import catalog
from launcher.model.catalog import Catalogs, CatalogStatus
from launcher.model.config import Config
from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.ui.team import TeamProjects, label, tooltip

pytestmark = pytest.mark.gui


def names(team: TeamProjects, config: Config) -> list[str]:
    return [label(x) for x in team.merged(config).projects]


def test_catalog_projects_are_listed_marked_and_survive_the_catalog_vanishing(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    shared = tmp_path / "share" / "team.json"
    catalog.write_export(
        shared, [Project("Emitter", "/srv/emitter/mlruns"), Project("Local", "/srv/x/mlruns")]
    )
    config = Config(projects=[Project("Local", "/mine/mlruns")], catalogs=[str(shared)])
    team = TeamProjects(paths)
    # Nothing cached yet: only the local project, and a read starts in the background.
    with qtbot.waitSignal(team.changed, timeout=5000):
        assert names(team, config) == ["Local"]
    assert names(team, config) == ["Local", "Emitter  [team]"]
    merged = team.merged(config)
    emitter = merged.find("emitter")
    assert emitter is not None and emitter.read_only and emitter.catalog == str(shared)
    assert "read-only" in tooltip(emitter) and tooltip(merged.projects[0]) == ""
    assert [x.project.store for x in merged.shadowed] == ["/srv/x/mlruns"]  # the local one wins
    assert team.problems() == []
    # The share goes offline: the last known copy stays, and says so.
    shared.unlink()
    with qtbot.waitSignal(team.changed, timeout=5000):
        team.refresh()
    assert names(team, config) == ["Local", "Emitter  [team]"]
    [problem] = team.problems()
    assert "could not be read" in problem.describe()
    assert "last known copy" in problem.describe()
    # A new start reads the cache at once, without touching the share.
    again = TeamProjects(paths)
    with qtbot.waitSignal(again.changed, timeout=5000):
        assert names(again, config) == ["Local", "Emitter  [team]"]
    assert names(again, config) == ["Local", "Emitter  [team]"] and again.problems()
    # Unsubscribed: gone from the list.
    assert names(team, Config(projects=[Project("Local", "/mine/mlruns")])) == ["Local"]


def test_a_slow_catalog_never_blocks_and_refreshes_do_not_pile_up(
    qtbot, paths: AppPaths, tmp_path: Path
) -> None:
    release = threading.Event()
    reads: list[list[str]] = []

    class Slow(Catalogs):
        def refresh(self, sources):  # type: ignore[no-untyped-def,override]
            reads.append(list(sources))
            release.wait(10)
            return [CatalogStatus(s, [Project("Team", "/t/mlruns")], 1.0) for s in sources]

    team = TeamProjects(paths, catalogs=Slow(paths))
    config = Config(catalogs=["/share/a.json"])
    assert names(team, config) == []  # at once, while the read hangs
    assert team.refreshing
    team.refresh()
    team.refresh()  # asked twice more while reading: one more read, not two
    assert reads == [["/share/a.json"]]
    with qtbot.waitSignal(team.changed, timeout=5000):
        release.set()
    qtbot.waitUntil(lambda: not team.refreshing and len(reads) == 2, timeout=5000)
    assert names(team, config) == ["Team  [team]"]
