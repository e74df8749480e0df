"""The update rules: what a feed lists, what is newer, when to check, whose choice wins."""

from __future__ import annotations

import pytest

from launcher.model.updates import (
    DEFAULT_FEED,
    FeedError,
    check_due,
    effective_feed,
    effective_policy,
    is_newer,
    newest_release,
    parse_sums,
)

A, B, C = "a" * 64, "b" * 64, "C" * 64


def test_sums_are_read_as_sha256sum_writes_them() -> None:
    text = (
        f"{A}  MLflowLauncher-0.2.0-setup.exe\n"
        f"{B} *MLflowLauncher-0.2.0-portable.zip\n"
        "not a line of sums\n"
        f"{C}  MLflowLauncher-0.10.0-setup.exe\n"
    )
    assert parse_sums(text) == {
        "MLflowLauncher-0.2.0-setup.exe": A,
        "MLflowLauncher-0.2.0-portable.zip": B,
        "MLflowLauncher-0.10.0-setup.exe": "c" * 64,
    }


def test_the_newest_installer_wins_by_version_not_by_name() -> None:
    release = newest_release(
        {
            "MLflowLauncher-0.9.0-setup.exe": A,
            "MLflowLauncher-0.10.0-setup.exe": B,
            "MLflowLauncher-0.11.0-portable.zip": C,
        }
    )
    assert (release.version, release.installer, release.sha256) == (
        "0.10.0",
        "MLflowLauncher-0.10.0-setup.exe",
        B,
    )


def test_a_feed_without_an_installer_is_an_error() -> None:
    with pytest.raises(FeedError, match="lists no"):
        newest_release({"MLflowLauncher-1.0.0-portable.zip": A, "readme.txt": B})


@pytest.mark.parametrize(
    ("candidate", "current", "newer"),
    [
        ("0.1.1", "0.1.0", True),
        ("0.10.0", "0.9.0", True),
        ("0.1.0", "0.1.0", False),
        ("0.0.9", "0.1.0", False),  # never a rollback, even when a feed lists only older ones
        ("1.0.0rc1", "0.9.0", True),
        ("nonsense", "0.1.0", False),
    ],
)
def test_only_a_strictly_higher_version_is_newer(candidate: str, current: str, newer: bool) -> None:
    assert is_newer(candidate, current) is newer


def test_a_check_is_due_once_a_day() -> None:
    day = 24 * 3600
    assert check_due(0.0, 1_000_000.0)
    assert not check_due(1_000_000.0, 1_000_000.0 + day - 1)
    assert check_due(1_000_000.0, 1_000_000.0 + day)
    assert check_due(1_000_000.0, 1_000_000.0 - 60)  # the clock went back: do not wait forever


def test_the_users_answer_wins_over_the_installers() -> None:
    assert effective_policy("off", "on") == "off"
    assert effective_policy("on", "off") == "on"
    assert effective_policy("ask", "off") == "off"  # a silent roll-out without /UPDATES=1
    assert effective_policy("ask", "on") == "on"
    assert effective_policy("ask", None) == "ask"


def test_the_feed_comes_from_the_settings_then_the_installer_then_github() -> None:
    assert effective_feed(r"\\srv\share\releases", "https://x") == r"\\srv\share\releases"
    assert effective_feed("  ", "https://x/feed") == "https://x/feed"
    assert effective_feed("", None) == DEFAULT_FEED
