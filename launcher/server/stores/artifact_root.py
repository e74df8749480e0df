"""Where new experiments' artifacts go, so scripts logging straight to the store can use them.

``mlflow server`` (and ``mlflow ui``) serve artifacts by default, and then give every experiment
created through them a proxied ``mlflow-artifacts:/<id>`` location
(``mlflow.utils.server_cli_utils.resolve_default_artifact_root``). Only a client talking to that
server can use such a location: the team's training script, which logs straight to the store
(``mlflow.set_tracking_uri(r"\\\\server\\share\\mlruns")``), fails with "When an
mlflow-artifacts URI was supplied, the tracking URI must be a valid http or https URI". So the
launcher gives its servers a real artifact root instead:

- a folder store: the store itself, exactly what the client logging to it uses
  (``mlflow.tracking._tracking_service.utils._get_file_store`` is ``FileStore(uri, uri)``), so
  artifacts live with the team's store;
- a SQL store: the project's artifacts location as a real path or URI; by default a folder of
  the launcher's data dir (right for the launcher's own ``Local`` store; for a team database the
  editor and ``doctor`` say that colleagues' scripts cannot read it and ask for a shared one).

Artifacts stay served (``--serve-artifacts``), so runs whose location is ``mlflow-artifacts:/``
(written by other servers) still show; their files go to the artifacts destination. A project's
own ``--default-artifact-root`` in its extra arguments wins over all this.
"""

from __future__ import annotations

import re
from pathlib import Path

from launcher.model.paths import AppPaths
from launcher.model.project import Project
from launcher.model.stores import Store, StoreKind

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")


def artifacts_location(project: Project, paths: AppPaths) -> Path | str:
    """The project's artifacts location: a URI as given, a path made absolute, or the default."""
    text = project.artifacts.strip()
    if not text:
        return paths.artifacts_dir(project.slug)
    if _URI.match(text):
        return text
    return Path(text).expanduser()


def is_default(project: Project) -> bool:
    return not project.artifacts.strip()


def root_for(project: Project, store: Store, paths: AppPaths) -> str:
    """The ``--default-artifact-root`` of the project's server (see the module docstring)."""
    if store.kind is StoreKind.FOLDER:
        # A share as the client has it, \\server\share\...: MLflow opens a file://server/...
        # store, but refuses that URI as an artifact root ("not a valid remote uri").
        return store.path if store.is_unc and store.path else store.uri
    where = artifacts_location(project, paths)
    return where if isinstance(where, str) else where.absolute().as_uri()


def describe(project: Project, store: Store, paths: AppPaths) -> tuple[bool, str]:
    """(fine, where new experiments' artifacts go) in plain words, for doctor and the editor."""
    if store.kind is StoreKind.REMOTE:
        return True, "decided by the remote tracking server"
    if store.kind is StoreKind.FOLDER:
        return True, "new experiments' artifacts go inside the store, where scripts put theirs"
    root = root_for(project, store, paths)
    if not is_default(project) or (store.path and paths.owns(Path(store.path))):
        return True, f"new experiments' artifacts go to {root}"
    return False, (
        f"new experiments' artifacts go to {root}, on this PC only: colleagues' scripts using "
        "this database cannot read them. Set a shared artifacts location "
        "(mlflow-launcher edit NAME --artifacts DIR, or the editor)."
    )
