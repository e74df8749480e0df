"""Moving a project's store to another kind, verified: what "Move to…" and ``move`` do.

- ``to_sqlite``: a folder store into a new SQLite file (MLflow's converter, then a check);
- ``to_database``: a folder or SQLite store into a team database (PostgreSQL, MySQL);
- ``verify``: both stores read back and compared, record kind by record kind;
- ``child_run``: the move's child process in the project's Python, its progress, result and
  go-ahead to commit, and the errors every move raises (:class:`MoveError`);
- ``partial_files``: the temporary file beside a target, gone whatever happens;
- ``gather``: several projects' stores into workspaces of one database.
"""
