from __future__ import annotations

import pytest

from launcher.model.project import Project, ProjectError, validate
from launcher.model.stores import StoreError


def test_slugs_are_file_safe_and_distinct_per_name() -> None:
    names = ["Local", "local", "a/b", "a\\b", "a b", "..", "ü"]
    slugs = [Project(n, "/x/mlruns").slug for n in names]
    assert len(set(slugs)) == len(slugs)
    for slug in slugs:
        assert all(ch.isalnum() or ch in "._-" for ch in slug)
        assert not slug.startswith(".")


@pytest.mark.parametrize(
    ("project", "error"),
    [
        (Project("", "/x/mlruns"), ProjectError),
        (Project(" padded", "/x/mlruns"), ProjectError),
        (Project("two\nlines", "/x/mlruns"), ProjectError),
        (Project("p", "/x/mlruns", port=70000), ProjectError),
        (Project("p", "ftp://x"), StoreError),
    ],
)
def test_validate_refuses_what_would_break(project: Project, error: type[Exception]) -> None:
    with pytest.raises(error):
        validate(project)


def test_from_dict_ignores_unknown_keys_and_checks_types() -> None:
    project = Project.from_dict({"name": "p", "store": "/x/mlruns", "future_option": 1})
    assert project == Project("p", "/x/mlruns")
    with pytest.raises(ProjectError):
        Project.from_dict({"name": "p", "store": "/x", "extra_args": "--a"})


def test_a_workspace_is_of_a_sql_store_or_server_and_named_as_mlflow_wants() -> None:
    from launcher.model.project import Project, ProjectError, validate

    validate(Project("W", "sqlite:////tmp/team.db", workspace="vision"))
    validate(Project("W", "https://team:5000", workspace="default"))
    with pytest.raises(ProjectError, match="lowercase"):
        validate(Project("W", "https://team:5000", workspace="Vision"))
    with pytest.raises(ProjectError, match="folder store has none"):
        validate(Project("W", "/tmp/mlruns", workspace="vision"))
