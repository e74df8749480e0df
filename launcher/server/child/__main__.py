"""A child process's entry script: ``python __main__.py COMMAND ...`` in a project's Python.

The project's Python may not have the launcher installed, so this folder is loaded as a package
of its own name (``_launcher_child``) from its path: its modules then import each other as
siblings (``from . import protocol``), exactly as they do inside the launcher, where they are
``launcher.server.child``. The commands are in ``commands.py``; frozen, the launcher's exe runs
them itself (``launcher.exe --serve-child COMMAND ...``).
"""

import importlib
import importlib.util
import os
import sys

PACKAGE = "_launcher_child"


def _load_package(here: str) -> None:
    spec = importlib.util.spec_from_file_location(
        PACKAGE, os.path.join(here, "__init__.py"), submodule_search_locations=[here]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"{here} cannot be loaded as a package")
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)


if __name__ == "__main__":
    if __package__:  # python -m launcher.server.child, with the launcher installed
        from launcher.server.child import commands
    else:
        # Run by path, this folder is sys.path[0]: its modules must not shadow the standard
        # library or MLflow's imports in the serving environment.
        _here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
        _load_package(_here)
        commands = importlib.import_module(f"{PACKAGE}.commands")
    sys.exit(commands.main())
