"""MLflow servers and their processes (QtCore at most), by what a change is about.

- here: one server's life: start (``process``), the manager the tray drives, ``spawn`` (the
  one way a child process starts, tied to the launcher) and the process tree, so no orphan is
  left, access keys, the log, the store watch;
- ``checks/``: the pre-flight a start and ``doctor`` share, and naming why a server failed;
- ``stores/``: reading stores (schema, experiments, discovery, shares, folder cost) and the
  fast view; ``stores/move/``: moving a store to SQLite or a team database ("Move to…");
- ``python/``: which Python serves a project, and the exact command and environment it gets;
- ``warm/``: the host processes that serve many projects each, one kept warm before a click;
- ``child/``: the code that runs inside a child process, in the project's own Python
  (standard library only at module level); ``child/protocol.py`` is all both sides agree on.
"""
