"""MLflow servers and their processes (QtCore at most), by what a change is about.

- here: one server's life: start (``process``), the manager the tray drives,
  the lifeline and process tree that leave no orphan, access keys, the log, the store watch;
- ``checks/``: the pre-flight a start and ``doctor`` share, and naming why a server failed;
- ``stores/``: reading stores (schema, experiments, discovery, shares, folder cost), the
  fast view) and ``stores/move/``: moving a store to SQLite or a team database;
- ``python/``: which Python serves a project, and the exact command and environment it gets;
- ``warm/``: the host processes that serve many projects each, one kept warm before a click;
- ``child/``: the code that runs inside the server process, in the project's own Python
  (standard library only at module level).
"""
