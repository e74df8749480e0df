"""The team server's commands: ``team-server`` (serve) and ``team-grant`` (who sees which
workspace)."""
