"""A store moved, in the project's Python (``launcher.server.stores.move`` is the launcher's
side): ``to_sqlite`` (a folder store into a new SQLite file), ``to_database`` (a SQLite store
into a team database, one transaction, committed on the launcher's word), ``workspace`` (into a
new workspace of a database that holds others) and ``table_hash`` (the check before the
commit). Standard library only at import, like the whole package.
"""
