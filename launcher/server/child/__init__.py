"""What runs inside a server process, in the project's Python: standard library only at import.

The launcher side imports ``protocol`` and ``probe`` from here, nothing else.
"""
