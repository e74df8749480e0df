"""Before and after a start: the pre-flight checks, ``doctor``, and why a server failed."""
