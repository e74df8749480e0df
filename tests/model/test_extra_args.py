"""Extra server options typed as one line: the settings field and --server-args share the rules."""

from __future__ import annotations

import pytest

from launcher.model.extra_args import join_args, split_args


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("", []),
        ("--a 1", ["--a", "1"]),
        ('--p "C:\\My Files\\x"', ["--p", "C:\\My Files\\x"]),
        ("--q 'say \"hi\"'", ["--q", 'say "hi"']),
        ('--e ""', ["--e", ""]),
        (
            "--artifacts-destination \\\\srv\\share\\art",
            ["--artifacts-destination", "\\\\srv\\share\\art"],
        ),
    ],
)
def test_extra_arguments_round_trip(text: str, args: list[str]) -> None:
    assert split_args(text) == args
    assert split_args(join_args(args)) == args


def test_an_unclosed_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="quote is not closed"):
        split_args("--a 'b")
