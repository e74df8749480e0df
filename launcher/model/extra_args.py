"""Extra ``mlflow server`` options as one line of text, and back: the same rules everywhere.

The settings dialog's "Extra arguments" field and ``add/edit --server-args`` take the same text.
Words split like a shell would, but a backslash is an ordinary character: the options our users
pass are Windows paths (``--static-prefix``, ``--artifacts-destination \\\\server\\share``), which
``shlex`` would mangle (POSIX mode eats backslashes, Windows mode keeps the quotes in the word).
"""

from __future__ import annotations


def split_args(text: str) -> list[str]:
    """Split extra arguments like a shell would, but keep backslashes (Windows paths).

    Double or single quotes group words; nothing else is special. Raises ValueError for an
    unclosed quote.
    """
    args: list[str] = []
    current: list[str] = []
    quote = ""
    in_word = False
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True
        elif ch.isspace():
            if in_word:
                args.append("".join(current))
                current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
    if quote:
        raise ValueError(f"A {quote} quote is not closed.")
    if in_word:
        args.append("".join(current))
    return args


def join_args(args: list[str]) -> str:
    """The inverse of :func:`split_args`: what the field shows for a saved project."""
    out = []
    for arg in args:
        if not arg or any(c.isspace() for c in arg) or '"' in arg or "'" in arg:
            quote = "'" if '"' in arg else '"'
            out.append(f"{quote}{arg}{quote}")
        else:
            out.append(arg)
    return " ".join(out)
