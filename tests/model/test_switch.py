"""Switching a project to its migrated database keeps the folder store as a second project."""

from __future__ import annotations

from launcher.model.config import Config
from launcher.model.project import Project
from launcher.model.switch import switch_to_database


def test_switch_keeps_the_folder_project_next_to_it() -> None:
    config = Config(
        projects=[
            Project(name="a", store="/x"),
            Project(
                name="team", store="/share/mlruns", prefix="dra_", python="/py", fast_view=True
            ),
            Project(name="team (folder)", store="/old"),
        ]
    )
    switched, kept = switch_to_database(config, "team", "/data/team.db")
    assert [p.name for p in config.projects] == ["a", "team", "team (folder 2)", "team (folder)"]
    assert switched.store == "/data/team.db" and switched.prefix == "dra_"
    assert not switched.fast_view
    assert kept.store == "/share/mlruns" and kept.python == "/py" and kept.fast_view


def test_a_sqlite_store_moved_to_a_team_database_stays_as_sqlite() -> None:
    config = Config(projects=[Project(name="Team", store="/data/team.db")])
    switched, kept = switch_to_database(
        config, "Team", "postgresql://u@db:5432/mlflow", kept_as="sqlite", artifacts="/share/a"
    )
    assert [p.name for p in config.projects] == ["Team", "Team (sqlite)"]
    assert switched.store == "postgresql://u@db:5432/mlflow" and switched.artifacts == "/share/a"
    assert kept.store == "/data/team.db" and kept.artifacts == ""
