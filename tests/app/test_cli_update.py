"""`mlflow-launcher update`: exit codes newer / current / failed, and a refusal off Windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.app.commands.update import EXIT_NEWER
from launcher.model.paths import AppPaths
from launcher.updates import installer
from tests.updates.feeds import INSTALLER, make_feed, served


def test_check_says_newer_with_its_own_exit_code(paths: AppPaths, tmp_path: Path, capsys) -> None:
    make_feed(tmp_path / "feed")
    assert run_cli(["update", "--check", "--feed", str(tmp_path / "feed")]) == EXIT_NEWER
    assert "9.9.9 is available" in capsys.readouterr().out


def test_check_says_current(paths: AppPaths, tmp_path: Path, capsys) -> None:
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "SHA256SUMS").write_text(f"{'0' * 64}  MLflowLauncher-0.0.1-setup.exe\n")
    assert run_cli(["update", "--check", "--feed", str(tmp_path / "feed")]) == 0
    assert "is the newest version" in capsys.readouterr().out


def test_an_unreadable_feed_fails_in_one_line(paths: AppPaths, tmp_path: Path, capsys) -> None:
    assert run_cli(["update", "--check", "--feed", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert "could not be read" in err and "Traceback" not in err


def test_update_off_windows_points_at_pip_and_downloads_nothing(
    paths: AppPaths, tmp_path: Path, capsys
) -> None:
    make_feed(tmp_path / "feed")
    assert run_cli(["update", "--feed", str(tmp_path / "feed")]) == 1
    assert "pip install -U" in capsys.readouterr().err
    assert not (paths.data_dir / "updates").exists()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The Windows installer stood in for: what would have run."""
    ran: list[Path] = []
    monkeypatch.setattr(installer, "why_not_installable", lambda: None)
    monkeypatch.setattr(installer, "start", ran.append)
    return ran


def test_update_downloads_verifies_and_starts_the_installer(
    paths: AppPaths, tmp_path: Path, capsys, started: list[Path]
) -> None:
    make_feed(tmp_path / "feed")
    with served(tmp_path / "feed") as url:
        assert run_cli(["update", "--feed", url]) == 0
    assert [p.name for p in started] == [INSTALLER]
    out = capsys.readouterr()
    assert "SHA-256 matches" in out.out and "MB" in out.err


def test_a_wrong_checksum_is_refused_and_nothing_runs(
    paths: AppPaths, tmp_path: Path, capsys, started: list[Path]
) -> None:
    make_feed(tmp_path / "feed", wrong_sum=True)
    assert run_cli(["update", "--feed", str(tmp_path / "feed")]) == 1
    assert "not the file the feed lists" in capsys.readouterr().err
    assert started == []
