"""Grouping 200 projects into a menu that reads: pure, no Qt."""

from __future__ import annotations

from launcher.model.catalog import Listed
from launcher.model.menu_layout import (
    FLAT_LIMIT,
    GROUP_MAX,
    RECENT_COUNT,
    Group,
    layout,
    letter_ranges,
    remember,
    store_root,
)
from launcher.model.project import Project


def listed(name: str, store: str, catalog: str | None = None) -> Listed:
    return Listed(Project(name, store), catalog)


def two_hundred() -> list[Listed]:
    """60 on one share, 40 on another, 50 of a team catalog, 50 loose SQLite files."""
    out = [listed(f"vision-{i:02d}", f"//srv/ml/vision/v{i:02d}/mlruns") for i in range(60)]
    out += [listed(f"nlp-{i:02d}", f"/data/nlp/n{i:02d}/mlflow.db") for i in range(40)]
    out += [
        listed(f"team-{i:02d}", f"/team/t{i:02d}/mlruns", "/cat/ml-team.json") for i in range(50)
    ]
    out += [listed(f"{chr(97 + i % 26)}loose-{i:02d}", f"/x{i}.db") for i in range(50)]
    return out


def all_groups(groups: list[Group]) -> list[Group]:
    out = []
    for group in groups:
        out.append(group)
        out.extend(all_groups(group.children))
    return out


def test_few_projects_stay_flat() -> None:
    few = [listed(f"p{i}", f"/d/p{i}/mlruns") for i in range(FLAT_LIMIT)]
    plan = layout(few, set(), [])
    assert plan.flat and plan.groups[0].entries == few


def test_two_hundred_are_grouped_with_running_and_recent_first() -> None:
    projects = two_hundred()
    recent = [f"nlp-{i:02d}" for i in range(12)]
    plan = layout(projects, {"vision-03", "nlp-00"}, recent)
    assert not plan.flat
    assert [x.project.name for x in plan.running] == ["vision-03", "nlp-00"]
    names = [x.project.name for x in plan.recent]
    assert len(names) == RECENT_COUNT and "nlp-00" not in names and names[0] == "nlp-01"
    titles = [g.title for g in plan.groups]
    assert titles[0] == "Team: ml-team"
    assert "//srv/ml/vision" in titles and "/data/nlp" in titles and titles[-1] == "Other projects"
    for group in all_groups(plan.groups):
        assert len(group.entries) + len(group.children) <= GROUP_MAX, group.title
    every = [x.project.name for g in all_groups(plan.groups) for x in g.entries]
    assert sorted(every) == sorted(x.project.name for x in projects), "each project exactly once"
    vision = next(g for g in plan.groups if g.title == "//srv/ml/vision")
    assert [len(c.entries) for c in vision.children] == [20, 20, 20]
    titles = [c.title for c in vision.children]
    assert titles == ["vision-00 … 19", "vision-20 … 39", "vision-40 … 59"]


def test_letter_ranges_read_and_split_evenly() -> None:
    entries = [listed(f"{c}{i}", f"/{c}{i}.db") for c in "abcdefgh" for i in range(4)]
    groups = letter_ranges(entries)
    assert [g.title for g in groups] == ["A-D", "E-H"]
    assert [len(g.entries) for g in groups] == [16, 16]


def test_store_root_is_the_folder_projects_share() -> None:
    assert store_root(listed("a", r"\\srv\share\mlflow\teamA\mlruns")) == r"\\srv\share\mlflow"
    assert store_root(listed("a", "/data/a/mlflow.db")) == "/data"
    assert store_root(listed("a", "/data/a/runs.db")) == "/data/a"
    assert store_root(listed("a", "postgresql://u@db/x")) == ""
    assert store_root(listed("a", "/x.db")) == ""


def test_remember_moves_to_front_and_caps() -> None:
    assert remember(["a", "b", "c"], "B") == ["B", "a", "c"]
    assert len(remember([str(i) for i in range(30)], "new")) == 20
