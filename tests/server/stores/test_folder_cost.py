"""Doctor says what a folder store costs (a timed listing of its biggest experiment), what it
lacks, and offers the move."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.app.cli import run_cli
from launcher.model.paths import AppPaths
from launcher.server.stores import folder_cost
from tests.server.helpers import tree_hash


def test_listing_of_the_biggest_experiment(rich_store: Path) -> None:
    before = tree_hash(rich_store)
    listing = folder_cost.time_listing(rich_store, sample=2)
    assert listing is not None
    assert (listing.name, listing.runs, listing.sampled) == ("alpha", 4, 2)
    assert listing.seconds >= 0
    text = folder_cost.describe(listing, "team")
    assert "'alpha', 4 runs" in text and "estimated from 2 of its runs" in text
    assert "Overview tab" in text and "move 'team' --switch" in text
    assert tree_hash(rich_store) == before


def test_an_empty_store_has_no_listing(tmp_path: Path) -> None:
    assert folder_cost.time_listing(tmp_path) is None


def test_doctor_offers_the_move(
    paths: AppPaths, rich_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["add", "team", str(rich_store)], paths) == 0
    run_cli(["doctor", "team"], paths)
    out = capsys.readouterr().out
    assert "speed: listing its biggest experiment ('alpha', 4 runs)" in out
    assert "mlflow-launcher move 'team' --switch" in out
