"""The team's experiment-naming convention, and the folder level it gives MLflow.

MLflow has nothing above experiments, so teams encode it in names:
``<project_name>_<pipeline_stage>_<experiment_number>_<descriptive_experiment_name>``, e.g.
``dra_emitter_train_007_bigger_lr``. Project names and descriptions may both contain
underscores, so a name alone is ambiguous (is ``dra_emitter_train_007_x`` project ``dra`` with
stage ``emitter``?). The launcher knows each project's experiment prefix, so names are parsed
*relative to it*:

- the name must start with the prefix (case-sensitive, as MLflow's own name search);
- a prefix ending in ``_`` is followed directly by the stage (``dra_`` + ``train_007_x``); any
  other prefix must be followed by ``_`` (``dra`` + ``_train_007_x``), so ``drastic_...`` is not
  in project ``dra``;
- then one stage token (a letter, then letters, digits or ``-``; no ``_``), ``_``, the number
  (ASCII digits, leading zeros kept as written), and optionally ``_`` and a description (which
  may hold anything, underscores included). A missing description still counts as conforming
  for numbering, so its number is never proposed again.

Without a prefix (a project that is a whole store) the project part is guessed: the first
all-digit token at position 2 or later whose previous token is a stage. Only grouping uses
that guess; proposing names needs a prefix.

Numbering policy: the next number for a stage is the highest in use plus one. Gaps are never
filled: a gap is usually a deleted experiment, whose name MLflow keeps reserved until it is
purged, and reusing numbers would break "higher number = later experiment", which is what
people sort and talk by. Stages compare case-insensitively for numbering and grouping
(``Train_003`` and ``train_004`` are one sequence), so two people never get the same number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_WIDTH = 3
"""Digits of a proposed number when the stage (and project) has none yet: ``001``."""
OTHER = "Other"
"""The group of names that do not follow the convention."""
DEFAULT_PER_STAGE = 10
"""Experiments shown per stage in a menu before "More..."; a menu should fit a screen."""

_STAGE = r"[^\W\d_](?:[^\W_]|-)*"
_STAGE_RE = re.compile(rf"^{_STAGE}$")
_REST_RE = re.compile(rf"^(?P<stage>{_STAGE})_(?P<digits>[0-9]+)(?:_(?P<description>.*))?$", re.S)
_DIGITS_RE = re.compile(r"^[0-9]+$")


class NamingError(ValueError):
    """A stage, description or prefix a conforming name cannot be built from; for the user."""


@dataclass(frozen=True)
class Experiment:
    """One experiment as the REST API (or a store) describes it; times in ms since the epoch."""

    id: str
    name: str
    creation_time: int = 0
    last_update_time: int = 0
    lifecycle_stage: str = "active"

    @property
    def active(self) -> bool:
        return self.lifecycle_stage == "active"

    @classmethod
    def from_rest(cls, data: Mapping[str, Any]) -> Experiment:
        """From one entry of ``experiments/search``; missing or odd times count as 0."""
        return cls(
            id=str(data.get("experiment_id", "")),
            name=str(data.get("name", "")),
            creation_time=_as_int(data.get("creation_time")),
            last_update_time=_as_int(data.get("last_update_time")),
            lifecycle_stage=str(data.get("lifecycle_stage", "active") or "active"),
        )


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class ParsedName:
    project: str
    """The project part: the prefix without its trailing ``_`` (or the guess, without one)."""
    stage: str
    digits: str
    """The number as written (``"007"``), so its width can be reused."""
    description: str

    @property
    def number(self) -> int:
        return int(self.digits)


def matches_prefix(name: str, prefix: str) -> bool:
    """Whether an experiment belongs to the project: its name starts with the prefix.

    Plain ``startswith`` (what the issue and the prefix field promise); an empty prefix means
    the whole store is the project.
    """
    return name.startswith(prefix)


def parse_name(name: str, prefix: str = "") -> ParsedName | None:
    """The parts of a conforming name, relative to the project's prefix; None if it does not
    conform (it then goes under "Other")."""
    if not prefix:
        return _guess(name)
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    if not prefix.endswith("_"):
        if not rest.startswith("_"):
            return None
        rest = rest[1:]
    m = _REST_RE.match(rest)
    if m is None:
        return None
    return ParsedName(prefix.removesuffix("_"), m["stage"], m["digits"], m["description"] or "")


def _guess(name: str) -> ParsedName | None:
    tokens = name.split("_")
    for i in range(2, len(tokens)):
        if not _DIGITS_RE.match(tokens[i]):
            continue
        project = tokens[: i - 1]
        if _STAGE_RE.match(tokens[i - 1]) and all(project):
            return ParsedName(
                "_".join(project), tokens[i - 1], tokens[i], "_".join(tokens[i + 1 :])
            )
    return None


def newest_first(experiments: Iterable[Experiment]) -> list[Experiment]:
    """Newest created first; ties by last update, then by id (numeric ids compare as numbers).

    Creation time, not last update: MLflow bumps an experiment's update time only for renames
    and tags, so creation is what "newest" means to people reading the menu.
    """

    def key(e: Experiment) -> tuple[int, int, int, str]:
        numeric = int(e.id) if _DIGITS_RE.match(e.id) else -1
        return (e.creation_time, e.last_update_time, numeric, e.id)

    return sorted(experiments, key=key, reverse=True)


@dataclass
class StageGroup:
    """One stage of a project's experiments, newest first, capped for a menu."""

    stage: str
    """The stage as written in the newest experiment of the group, or :data:`OTHER`."""
    experiments: list[Experiment] = field(default_factory=list)
    """Every experiment of the group, newest first."""
    cap: int = DEFAULT_PER_STAGE
    other: bool = False
    """True for the group of non-conforming names (a real stage may also be called "Other")."""

    @property
    def shown(self) -> list[Experiment]:
        return self.experiments[: self.cap]

    @property
    def hidden(self) -> int:
        """How many a menu leaves out: a "More..." entry is due when this is not 0."""
        return max(0, len(self.experiments) - self.cap)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.experiments]


def group_by_stage(
    experiments: Iterable[Experiment], prefix: str = "", *, per_stage: int = DEFAULT_PER_STAGE
) -> list[StageGroup]:
    """Active experiments grouped by stage: the stage with the newest experiment first,
    :data:`OTHER` (names not following the convention) always last."""
    groups: dict[str, StageGroup] = {}
    other = StageGroup(OTHER, cap=per_stage, other=True)
    for exp in newest_first(e for e in experiments if e.active):
        parsed = parse_name(exp.name, prefix)
        if parsed is None:
            other.experiments.append(exp)
            continue
        key = parsed.stage.casefold()
        if key not in groups:
            groups[key] = StageGroup(parsed.stage, cap=per_stage)
        groups[key].experiments.append(exp)
    result = list(groups.values())
    if other.experiments:
        result.append(other)
    return result


def validate_stage(stage: str) -> str:
    """The stage, checked to be one token; raises :class:`NamingError` otherwise."""
    stage = stage.strip()
    if not _STAGE_RE.match(stage):
        raise NamingError(
            f"The stage {stage!r} must be one word: a letter, then letters, digits or '-' "
            "(no '_' or spaces), e.g. 'train' or 'eval'."
        )
    return stage


def next_number(existing_names: Iterable[str], prefix: str, stage: str) -> str:
    """The next free number for ``stage`` in the project, zero-padded, e.g. ``"004"``.

    Highest number in use for that stage plus one; gaps are not reused (see the module
    docstring). Width: the widest number written for that stage, else for any stage of the
    project, else :data:`DEFAULT_WIDTH`; a number that outgrows it simply gets longer.
    Names outside the project or not following the convention are ignored.
    """
    if not prefix:
        raise NamingError("Proposing a name needs the project's experiment prefix.")
    wanted = validate_stage(stage).casefold()
    highest = 0
    stage_width = 0
    any_width = 0
    for name in existing_names:
        parsed = parse_name(name, prefix)
        if parsed is None:
            continue
        any_width = max(any_width, len(parsed.digits))
        if parsed.stage.casefold() == wanted:
            highest = max(highest, parsed.number)
            stage_width = max(stage_width, len(parsed.digits))
    width = stage_width or any_width or DEFAULT_WIDTH
    return str(highest + 1).zfill(width)


def sanitize_description(text: str) -> str:
    """A description safe in a name, URL, shell and MLflow filter: words joined by ``_``.

    Spaces (and other separators) become ``_``; only letters, digits, ``-``, ``.`` and ``_``
    are kept (accents are kept, quotes, slashes and the like are dropped); runs of ``_``
    collapse and none lead or trail. Raises :class:`NamingError` when nothing is left.
    """
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[\s/\\:,;]+", "_", text.strip())
    text = re.sub(r"[^\w.-]", "", text)
    text = re.sub(r"_+", "_", text).strip("_.-")
    if not text:
        raise NamingError("The description is empty once unsafe characters are removed.")
    return text


def build_name(prefix: str, stage: str, number: int | str, description: str) -> str:
    """``<prefix>_<stage>_<number>_<description>``, with the description sanitised.

    A prefix ending in ``_`` is used as is; otherwise ``_`` is added. An int number is padded
    to :data:`DEFAULT_WIDTH`; a str number (from :func:`next_number`) is used as written.
    """
    if not prefix:
        raise NamingError("A conforming name needs the project's experiment prefix.")
    digits = str(number).zfill(DEFAULT_WIDTH) if isinstance(number, int) else number.strip()
    if not _DIGITS_RE.match(digits):
        raise NamingError(f"The experiment number {number!r} must be digits, e.g. 001.")
    head = prefix if prefix.endswith("_") else prefix + "_"
    return f"{head}{validate_stage(stage)}_{digits}_{sanitize_description(description)}"


def next_name(existing_names: Iterable[str], prefix: str, stage: str, description: str) -> str:
    """The next conforming name for a stage: what ``mlflow-launcher name`` prints."""
    names = list(existing_names)
    return build_name(prefix, stage, next_number(names, prefix, stage), description)
