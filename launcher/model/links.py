"""Links into MLflow's UI: a project's own view, one experiment, and the menu of experiments.

The UI routes by the URL's hash (``#/experiments/<id>``). A project's view is the
compare-experiments route, ``#/compare-experiments/s?experiments=<JSON array of id strings>``:
MLflow's UI builds it as ``JSON.stringify(ids.slice().sort())`` and reads it back with
``URLSearchParams.get("experiments")`` then ``JSON.parse``, so the array is written without
spaces, with the ids sorted as strings (as the UI does), and percent-encoded whole
(``encodeURIComponent`` style: ``"`` must be encoded, and a raw ``+`` would read as a space).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from launcher.model.naming import (
    DEFAULT_PER_STAGE,
    Experiment,
    StageGroup,
    group_by_stage,
    matches_prefix,
    newest_first,
)


def base(url: str) -> str:
    """The UI's root with exactly one trailing slash, so ``#/...`` is appended to a path."""
    return url.rstrip("/") + "/"


def in_workspace(url: str, workspace: str) -> str:
    """``url`` opened in MLflow's ``workspace`` (its UI's links carry ``?workspace=NAME`` after
    the route); the root opens that workspace's experiment list. Unchanged without one."""
    if not workspace:
        return url
    if "#/" not in url:
        url = base(url) + "#/experiments"
    joiner = "&" if "?" in url.split("#", 1)[1] else "?"
    return f"{url}{joiner}workspace={urllib.parse.quote(workspace, safe='')}"


def experiment_url(base_url: str, experiment_id: str, workspace: str = "") -> str:
    url = f"{base(base_url)}#/experiments/{urllib.parse.quote(str(experiment_id), safe='')}"
    return in_workspace(url, workspace)


def run_url(base_url: str, experiment_id: str, run_id: str, workspace: str = "") -> str:
    """One run's page (what a run notification opens)."""
    experiment = urllib.parse.quote(str(experiment_id), safe="")
    run = urllib.parse.quote(str(run_id), safe="")
    return in_workspace(f"{base(base_url)}#/experiments/{experiment}/runs/{run}", workspace)


def compare_url(base_url: str, experiment_ids: Iterable[str], workspace: str = "") -> str:
    ids = sorted({str(i) for i in experiment_ids})
    array = json.dumps(ids, separators=(",", ":"))
    return in_workspace(
        f"{base(base_url)}#/compare-experiments/s?experiments={urllib.parse.quote(array, safe='')}",
        workspace,
    )


def project_experiments(experiments: Iterable[Experiment], prefix: str) -> list[Experiment]:
    """The project's active experiments (all of them when there is no prefix), newest first."""
    return newest_first(e for e in experiments if e.active and matches_prefix(e.name, prefix))


def project_view_url(
    base_url: str, prefix: str, experiments: Iterable[Experiment], workspace: str = ""
) -> str:
    """Where opening a project goes.

    No prefix: the store's experiment list (the plain root), as a launcher always did. With a
    prefix: the compare view of exactly the prefix's experiments; a single one opens its own
    page (a nicer view than comparing one experiment); none opens the plain root, so a new
    project still opens somewhere useful.
    """
    if not prefix:
        return in_workspace(base(base_url), workspace)
    mine = project_experiments(experiments, prefix)
    if not mine:
        return in_workspace(base(base_url), workspace)
    if len(mine) == 1:
        return experiment_url(base_url, mine[0].id, workspace)
    return compare_url(base_url, (e.id for e in mine), workspace)


@dataclass(frozen=True)
class MenuItem:
    label: str
    """The experiment's name."""
    url: str
    """Its deep link, ``#/experiments/<id>``."""
    experiment_id: str


@dataclass(frozen=True)
class MenuGroup:
    stage: str
    items: list[MenuItem]
    """The newest experiments of the stage, at most the cap."""
    hidden: int
    """How many more the stage has: show "More..." (opening :attr:`more_url`) when not 0."""
    more_url: str
    """The compare view of every experiment of this stage."""
    other: bool = False
    """The group of names not following the convention."""


@dataclass(frozen=True)
class ExperimentMenu:
    """What a running project's "Experiments" submenu shows; plain data, no Qt."""

    project_url: str
    """The project's own view (see :func:`project_view_url`)."""
    groups: list[MenuGroup] = field(default_factory=list)
    total: int = 0
    """The project's active experiments."""

    @property
    def empty(self) -> bool:
        return self.total == 0


def build_menu(
    base_url: str,
    prefix: str,
    experiments: Iterable[Experiment],
    *,
    per_stage: int = DEFAULT_PER_STAGE,
    workspace: str = "",
) -> ExperimentMenu:
    mine = project_experiments(experiments, prefix)
    groups: list[StageGroup] = group_by_stage(mine, prefix, per_stage=per_stage)
    return ExperimentMenu(
        project_url=project_view_url(base_url, prefix, mine, workspace),
        groups=[
            MenuGroup(
                stage=g.stage,
                items=[
                    MenuItem(e.name, experiment_url(base_url, e.id, workspace), e.id)
                    for e in g.shown
                ],
                hidden=g.hidden,
                more_url=compare_url(base_url, g.ids, workspace),
                other=g.other,
            )
            for g in groups
        ],
        total=len(mine),
    )
