"""The naming convention: parsing relative to a prefix, grouping, next numbers, building names."""

from __future__ import annotations

import pytest

from launcher.model.naming import (
    OTHER,
    Experiment,
    NamingError,
    ParsedName,
    build_name,
    group_by_stage,
    newest_first,
    next_name,
    next_number,
    parse_name,
    sanitize_description,
)


@pytest.mark.parametrize(
    ("name", "prefix", "expected"),
    [
        ("dra_train_001_baseline", "dra_", ParsedName("dra", "train", "001", "baseline")),
        ("dra_train_001_baseline", "dra", ParsedName("dra", "train", "001", "baseline")),
        # Underscores in the project name and the description: the prefix disambiguates.
        (
            "dra_emitter_classification_eval_012_lr_0_01_warm",
            "dra_emitter_classification_",
            ParsedName("dra_emitter_classification", "eval", "012", "lr_0_01_warm"),
        ),
        ("dra_train_007", "dra_", ParsedName("dra", "train", "007", "")),
        ("dra_pre-proc_3_x", "dra_", ParsedName("dra", "pre-proc", "3", "x")),
        ("dra_train_001_", "dra_", ParsedName("dra", "train", "001", "")),
        ("dra_train_001_a b c", "dra_", ParsedName("dra", "train", "001", "a b c")),
    ],
)
def test_conforming_names_parse_relative_to_the_prefix(
    name: str, prefix: str, expected: ParsedName
) -> None:
    assert parse_name(name, prefix) == expected


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("drastic_train_001_x", "dra"),  # shares letters, not the project
        ("dra_notes", "dra_"),  # no stage/number
        ("dra_train_x_bad", "dra_"),  # number is not digits
        ("dra_emitter_train_001_x", "dra_"),  # another project's: 'emitter' then 'train'
        ("dra_001_train_x", "dra_"),  # number before stage
        ("dra__train_001_x", "dra_"),  # empty token
        ("DRA_train_001_x", "dra_"),  # prefixes are case-sensitive, as MLflow names are
        ("other_train_001_x", "dra_"),
        ("dra_train_٣_x", "dra_"),  # only ASCII digits are numbers
    ],
)
def test_non_conforming_names_do_not_parse(name: str, prefix: str) -> None:
    assert parse_name(name, prefix) is None


def test_without_a_prefix_the_project_part_is_guessed() -> None:
    assert parse_name("proj_2024_train_001_x") == ParsedName("proj_2024", "train", "001", "x")
    assert parse_name("dra_emitter_eval_3_run_2") == ParsedName("dra_emitter", "eval", "3", "run_2")
    assert parse_name("scratch notes") is None
    assert parse_name("train_001_x") is None  # no project part


def exp(i: int, name: str, created: int | None = None, stage: str = "active") -> Experiment:
    return Experiment(str(i), name, created if created is not None else i * 1000, 0, stage)


def test_grouping_by_stage_newest_first_other_last_and_capped() -> None:
    experiments = [
        exp(1, "dra_train_001_a"),
        exp(2, "dra_eval_001_b"),
        exp(3, "dra_notes"),
        exp(4, "dra_train_002_c"),
        exp(5, "dra_Train_003_d"),  # same stage, other spelling
        exp(6, "dra_train_004_gone", stage="deleted"),
        exp(7, "dra_prep_001_e", created=500),  # created first although its id is high
        exp(8, "dra_train_x_bad"),
    ]
    groups = group_by_stage(experiments, "dra_", per_stage=2)
    assert [(g.stage, g.other) for g in groups] == [
        ("Train", False),
        ("eval", False),
        ("prep", False),
        (OTHER, True),
    ]
    train = groups[0]
    assert [e.name for e in train.experiments] == [
        "dra_Train_003_d",
        "dra_train_002_c",
        "dra_train_001_a",
    ]
    assert [e.id for e in train.shown] == ["5", "4"] and train.hidden == 1
    assert [e.name for e in groups[-1].experiments] == ["dra_train_x_bad", "dra_notes"]
    assert all(e.active for g in groups for e in g.experiments)


def test_a_stage_named_other_is_not_the_other_group() -> None:
    groups = group_by_stage([exp(1, "dra_Other_001_x"), exp(2, "dra_misc")], "dra_")
    assert [(g.stage, g.other) for g in groups] == [("Other", False), (OTHER, True)]


def test_newest_first_breaks_ties_by_update_time_then_numeric_id() -> None:
    same = [
        Experiment("9", "a", 10, 1),
        Experiment("10", "b", 10, 1),
        Experiment("2", "c", 10, 5),
    ]
    assert [e.id for e in newest_first(same)] == ["2", "10", "9"]


def test_from_rest_reads_the_search_payload() -> None:
    e = Experiment.from_rest(
        {
            "experiment_id": "12",
            "name": "dra_train_001_x",
            "creation_time": "1700000000000",
            "last_update_time": 1700000000001,
            "lifecycle_stage": "deleted",
        }
    )
    assert e == Experiment("12", "dra_train_001_x", 1700000000000, 1700000000001, "deleted")
    assert not e.active
    assert Experiment.from_rest({"experiment_id": 3, "name": "x"}).creation_time == 0


NAMES = [
    "dra_train_001_a",
    "dra_train_002_b",
    "dra_train_005_after_a_gap",  # 003 and 004 are gaps: never reused
    "dra_eval_01_x",
    "dra_train_x_bad",  # non-conforming: ignored
    "dra_train_999",  # conforming without a description: its number counts
    "dra_emitter_train_1000_other_project",  # another project sharing the letters
    "other_train_5000_x",
    "Default",
]


def test_next_number_is_max_plus_one_with_gaps_left_alone() -> None:
    assert next_number(NAMES[:3], "dra_", "train") == "006"


def test_next_number_counts_a_name_without_description_and_ignores_others() -> None:
    assert next_number(NAMES, "dra_", "train") == "1000"  # 999 + 1, outgrowing the width
    assert next_number(NAMES, "dra", "TRAIN") == "1000"  # stage case and prefix form agnostic


def test_next_number_width_follows_the_stage_then_the_project_then_three() -> None:
    assert next_number(NAMES, "dra_", "eval") == "02"
    assert next_number(["dra_eval_01_x"], "dra_", "deploy") == "01"
    assert next_number(["dra_eval_01_x", "dra_train_0007_y"], "dra_", "deploy") == "0001"
    assert next_number([], "dra_", "train") == "001"
    assert next_number(["scratch", "other_train_004_x"], "dra_", "train") == "001"


def test_next_number_needs_a_prefix_and_a_valid_stage() -> None:
    with pytest.raises(NamingError, match="prefix"):
        next_number(NAMES, "", "train")
    with pytest.raises(NamingError, match="one word"):
        next_number(NAMES, "dra_", "pre_proc")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bigger lr", "bigger_lr"),
        ("  lr = 0.01, warm-up ", "lr_0.01_warm-up"),
        ('quote\'s "and" / slashes\\', "quotes_and_slashes"),
        ("Ünïcode résumé", "Ünïcode_résumé"),
        ("a__b", "a_b"),
    ],
)
def test_sanitize_description(text: str, expected: str) -> None:
    assert sanitize_description(text) == expected


def test_build_name_and_next_name() -> None:
    assert build_name("dra_", "train", 7, "bigger lr") == "dra_train_007_bigger_lr"
    assert build_name("dra", "train", "0042", "x") == "dra_train_0042_x"
    name = next_name(NAMES[:3], "dra_", "train", "lr sweep")
    assert name == "dra_train_006_lr_sweep"
    assert parse_name(name, "dra_") == ParsedName("dra", "train", "006", "lr_sweep")
    for bad in (
        lambda: build_name("", "train", 1, "x"),
        lambda: build_name("dra_", "train stage", 1, "x"),
        lambda: build_name("dra_", "train", "1a", "x"),
        lambda: build_name("dra_", "train", 1, " ?! "),
    ):
        with pytest.raises(NamingError):
            bad()
