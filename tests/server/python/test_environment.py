from __future__ import annotations

import sys
from pathlib import Path

import pytest

from launcher.server.python import environment


def test_own_environment_is_probed_without_importing_mlflow() -> None:
    was_loaded = "mlflow" in sys.modules
    env = environment.resolve("")
    assert env.own and env.mlflow and env.lean
    assert ("mlflow" in sys.modules) == was_loaded


def test_migration_heads_match_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    env = environment.resolve("")
    assert env.mlflow_dir is not None
    config = Config()
    config.set_main_option("script_location", str(Path(env.mlflow_dir) / "store" / "db_migrations"))
    script = ScriptDirectory.from_config(config)
    assert env.heads == set(script.get_heads())
    assert env.revisions == {rev.revision for rev in script.walk_revisions()}


def test_missing_interpreter_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(environment.EnvironmentError_, match="does not exist"):
        environment.resolve(str(tmp_path / "nope" / "python"))


def test_interpreter_without_mlflow_is_probed_in_a_subprocess(tmp_path: Path) -> None:
    import venv

    venv.create(tmp_path / "venv", with_pip=False)
    # Given as a folder, and as its interpreter (a symlink to this very Python on Linux: it
    # must still count as another environment, whose site-packages lack MLflow).
    for given in (tmp_path / "venv", tmp_path / "venv" / "bin" / "python"):
        env = environment.resolve(str(given))
        assert not env.own
        assert env.mlflow is None and not env.lean
