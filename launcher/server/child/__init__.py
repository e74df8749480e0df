"""What runs inside a child process, in the project's Python: standard library only at import.

The entry is ``__main__.py`` (it loads this folder as a package where the launcher is not
installed), the commands ``commands.py``, and what both sides agree on ``protocol.py``:

- serving: ``host`` (many projects in one process: what the tray uses), ``routing`` (each
  request to its project's stores), ``warm_up`` (MLflow imported ahead), ``serve`` (one
  project, or the ``mlflow server`` fallback), and the fronts ``access_gate`` and
  ``readonly_guard``;
- ``move/``: a store moved (to SQLite, to a team database, into a workspace), checked before
  its commit;
- asking: ``probe`` (this environment's MLflow), ``schema`` (a SQL store's revision, upgrade);
- ``stdin_pipe``: the launcher's pipe, the one lifeline reader of every child.

The launcher side imports ``protocol``, ``probe`` and ``routing`` (its variable lists) from
here, nothing else.
"""
