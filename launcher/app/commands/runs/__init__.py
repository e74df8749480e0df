"""``runs`` and ``runs --follow``: the runs of your projects, read from their stores."""
