"""``mlflow-launcher move`` (also ``migrate``, its first name): a store moved to a better one,
verified, optionally switched to; the CLI of "Move to…" (``launcher.server.stores.move``).

``command`` registers the command and picks the move: a folder store to a SQLite file, or any
store to a team database (``database``); ``gather`` moves several into workspaces of one
database; ``shared`` holds what they show and change alike (the progress line, the report, the
switch).
"""
