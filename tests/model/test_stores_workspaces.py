"""Project names turned into MLflow workspace names, and MLflow's rules for them."""

from __future__ import annotations

import pytest

from launcher.model import stores as workspace_names


@pytest.mark.parametrize(
    ("project", "workspace"),
    [
        ("DRA Emitter", "dra-emitter"),
        ("vision_team-2", "vision-team-2"),
        ("Ärger", "arger"),
        ("x", "x-ws"),
        ("api", "api-project"),
        ("__", "project"),
    ],
)
def test_a_project_name_becomes_a_valid_workspace_name(project: str, workspace: str) -> None:
    assert workspace_names.workspace_for(project) == workspace
    assert workspace_names.workspace_problem(workspace) is None


def test_mlflows_rules() -> None:
    assert "2 to 63" in (workspace_names.workspace_problem("a") or "")
    assert "lowercase" in (workspace_names.workspace_problem("Bad_Name") or "")
    assert "reserved" in (workspace_names.workspace_problem("workspaces") or "")
    assert workspace_names.workspace_problem("-x") is not None
