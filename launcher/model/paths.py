"""Where the launcher keeps its config, data and logs.

One environment variable, ``MLFLOW_LAUNCHER_HOME``, moves all three together: tests and portable
installs (a folder next to the .exe on a USB stick) use it, and it guarantees a test never touches
the real user config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "mlflow-launcher"
HOME_ENV = "MLFLOW_LAUNCHER_HOME"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def default_store(self) -> Path:
        """The embedded default project's store: ours, so the launcher may create it."""
        return self.data_dir / "stores" / "local" / "mlflow.db"

    def artifacts_dir(self, slug: str) -> Path:
        return self.data_dir / "artifacts" / slug

    def registry_dir(self, slug: str) -> Path:
        return self.data_dir / "registry" / slug

    def server_log(self, slug: str) -> Path:
        return self.log_dir / "servers" / f"{slug}.log"

    @property
    def app_log(self) -> Path:
        return self.log_dir / "launcher.log"

    def owns(self, path: Path) -> bool:
        """True for paths inside the launcher's data dir, which it may create and write."""
        try:
            path.resolve().relative_to(self.data_dir.resolve())
        except ValueError:
            return False
        return True


def app_paths(environ: os._Environ[str] | dict[str, str] | None = None) -> AppPaths:
    env = os.environ if environ is None else environ
    home = env.get(HOME_ENV, "").strip()
    if home:
        root = Path(home).expanduser().absolute()
        return AppPaths(root / "config", root / "data", root / "logs")
    return AppPaths(
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True)),
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
