"""Links into MLflow's UI, checked against how the UI itself decodes them."""

from __future__ import annotations

import json
import urllib.parse

from launcher.model.links import (
    build_menu,
    compare_url,
    experiment_url,
    project_view_url,
)
from launcher.model.naming import Experiment

BASE = "http://127.0.0.1:5123/"


def ui_ids(url: str) -> list[str]:
    """What MLflow's UI does: URLSearchParams(hash query).get('experiments') then JSON.parse."""
    fragment = urllib.parse.urlsplit(url).fragment
    route, _, query = fragment.partition("?")
    assert route == "/compare-experiments/s"
    # URLSearchParams decodes %xx and reads '+' as a space, like parse_qs.
    values = urllib.parse.parse_qs(query, strict_parsing=True)["experiments"]
    assert len(values) == 1
    return list(json.loads(values[0]))


EXPERIMENTS = [
    Experiment("0", "Default", 1),
    Experiment("12", "dra_train_001_a", 5),
    Experiment("3", "dra_eval_001_b", 6),
    Experiment("40", "dra_train_002_c", 7, 0, "deleted"),
    Experiment("5", "other_train_001_x", 8),
    Experiment("123456789012345678", "dra_prep_001_d", 9),
]


def test_compare_url_is_the_ui_s_own_encoding() -> None:
    url = compare_url(BASE.rstrip("/"), ["3", "12", "3"])
    assert url.startswith(BASE + "#/compare-experiments/s?experiments=")
    # Exactly JSON.stringify(ids.slice().sort()), percent-encoded whole.
    assert url.endswith("experiments=" + urllib.parse.quote('["12","3"]', safe=""))
    assert ui_ids(url) == ["12", "3"]
    assert '"' not in url and " " not in url and "+" not in url


def test_experiment_url() -> None:
    assert experiment_url("http://h:1/mlflow", "7") == "http://h:1/mlflow/#/experiments/7"


def test_project_view_holds_only_the_prefix_s_active_experiments() -> None:
    url = project_view_url(BASE, "dra_", EXPERIMENTS)
    assert sorted(ui_ids(url)) == sorted(["12", "3", "123456789012345678"])


def test_project_view_falls_back_to_the_root_or_a_single_experiment() -> None:
    assert project_view_url(BASE, "", EXPERIMENTS) == BASE
    assert project_view_url(BASE, "nobody_", EXPERIMENTS) == BASE
    assert project_view_url(BASE, "other_", EXPERIMENTS) == BASE + "#/experiments/5"


def test_menu_groups_with_deep_links_and_more() -> None:
    menu = build_menu(BASE, "dra_", EXPERIMENTS, per_stage=1)
    assert menu.total == 3
    assert [(g.stage, [i.label for i in g.items], g.hidden) for g in menu.groups] == [
        ("prep", ["dra_prep_001_d"], 0),
        ("eval", ["dra_eval_001_b"], 0),
        ("train", ["dra_train_001_a"], 0),
    ]
    assert menu.groups[0].items[0].url == BASE + "#/experiments/123456789012345678"
    assert sorted(ui_ids(menu.project_url)) == ["12", "123456789012345678", "3"]
    # No prefix: the whole store, projects guessed from the names; stages span projects.
    whole = build_menu(BASE, "", EXPERIMENTS, per_stage=1)
    assert whole.project_url == BASE and whole.total == 5
    assert [(g.stage, g.hidden) for g in whole.groups] == [
        ("prep", 0),
        ("train", 1),
        ("eval", 0),
        ("Other", 0),
    ]
    train = whole.groups[1]
    assert [i.label for i in train.items] == ["other_train_001_x"]
    assert ui_ids(train.more_url) == ["12", "5"]
    assert whole.groups[-1].other and [i.label for i in whole.groups[-1].items] == ["Default"]


def test_links_of_a_workspace_project_carry_the_workspace() -> None:
    from launcher.model import links as wl

    assert wl.in_workspace("http://h:1/", "") == "http://h:1/"
    assert wl.in_workspace("http://h:1", "vision") == "http://h:1/#/experiments?workspace=vision"
    assert wl.experiment_url("http://h:1/", "7", "vision") == (
        "http://h:1/#/experiments/7?workspace=vision"
    )
    assert wl.compare_url("http://h:1/", ["1", "2"], "vision").endswith(
        "?experiments=%5B%221%22%2C%222%22%5D&workspace=vision"
    )
