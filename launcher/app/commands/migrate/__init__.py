"""``mlflow-launcher migrate``: a store moved to a better one, verified, optionally switched to.

``command`` registers the command and picks the move: a folder store to a SQLite file (the
launcher's own migration) or any store to a team database (``to_database``); ``shared`` holds
what both show and change alike (the progress line, the report, the switch).
"""
