"""How the tray menu lists many projects: one column, one screen high.

A point-at-a-share team gets 200 projects; Qt lays 200 menu entries out as six screen-wide
columns. Past :data:`FLAT_LIMIT` projects the menu shows, in this order: the running ones, the
few most recently used, then "All projects" in submenus that read as groups: a team catalog's
projects under that catalog, the rest under the store root they share (``\\\\srv\\mlflow`` for
``\\\\srv\\mlflow\\<project>\\mlruns``), anything else under letter ranges; no submenu over
:data:`GROUP_MAX` entries (bigger groups are split by letter range too).

Pure code (no Qt): the grouping is tested on its own and the menu only renders it.
"""

from __future__ import annotations

import ntpath
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from launcher.model.catalog import Listed
from launcher.model.stores import StoreError

FLAT_LIMIT = 15
"""Up to this many projects the menu lists them all at the top level, as it always did."""
RECENT_COUNT = 8
GROUP_MAX = 25
RECENT_KEEP = 20
"""How many names the config remembers as recently used."""
_STORE_FILES = ("mlruns", "mlflow.db")


@dataclass(frozen=True)
class Group:
    title: str
    entries: list[Listed]
    children: list[Group] = field(default_factory=list)
    """Set instead of ``entries`` when the group was split by letter range."""

    def count(self) -> int:
        return len(self.entries) + sum(child.count() for child in self.children)


@dataclass(frozen=True)
class Layout:
    flat: bool
    running: list[Listed]
    recent: list[Listed]
    groups: list[Group]


def remember(recent: Sequence[str], name: str, keep: int = RECENT_KEEP) -> list[str]:
    """``recent`` with ``name`` moved to the front (most recent first)."""
    folded = name.casefold()
    return [name, *(n for n in recent if n.casefold() != folded)][:keep]


def layout(
    listed: Sequence[Listed],
    active: set[str],
    recent: Sequence[str],
    *,
    catalog_titles: dict[str, str] | None = None,
) -> Layout:
    """The menu's structure for ``listed`` projects, ``active`` names (running or starting)
    and the ``recent`` names (most recent first)."""
    if len(listed) <= FLAT_LIMIT:
        return Layout(True, [], [], [Group("", list(listed))])
    by_name = {x.project.name: x for x in listed}
    running = [x for x in listed if x.project.name in active]
    recent_entries: list[Listed] = []
    for name in recent:
        entry = by_name.get(name)
        if entry is not None and name not in active and entry not in recent_entries:
            recent_entries.append(entry)
        if len(recent_entries) >= RECENT_COUNT:
            break
    return Layout(False, running, recent_entries, group(listed, catalog_titles or {}))


def group(listed: Sequence[Listed], catalog_titles: dict[str, str]) -> list[Group]:
    """Team projects by catalog, the rest by shared store root, the remainder by letters."""
    catalogs: dict[str, list[Listed]] = {}
    roots: dict[str, list[Listed]] = {}
    for entry in listed:
        if entry.catalog is not None:
            catalogs.setdefault(entry.catalog, []).append(entry)
        else:
            roots.setdefault(store_root(entry), []).append(entry)
    groups: list[Group] = []
    for source, entries in catalogs.items():
        title = catalog_titles.get(source) or f"Team: {PurePath(source).stem}"
        groups.append(_capped(title, entries))
    loose: list[Listed] = []
    for root, entries in sorted(roots.items(), key=lambda kv: kv[0].casefold()):
        if root and len(entries) >= 2:
            groups.append(_capped(root, entries))
        else:
            loose.extend(entries)
    if loose:
        if groups:
            groups.append(_capped("Other projects", loose))
        else:
            groups.extend(letter_ranges(loose))
    return groups


def store_root(entry: Listed) -> str:
    """The folder projects share: the parent of the project's own folder, '' if none.

    ``\\\\srv\\share\\mlflow\\teamA\\mlruns`` -> ``\\\\srv\\share\\mlflow``;
    ``/data/a/mlflow.db`` -> ``/data``; a database or tracking server -> ''.
    """
    try:
        path = entry.project.parsed_store().path
    except (StoreError, ValueError):
        text = entry.project.store.strip()
        # A share path this OS cannot serve (a UNC path on Linux) still names its folder.
        path = text if text.startswith(("\\\\", "//")) else None
    if path is None:
        return ""  # a database or tracking server: grouped with the rest by letter
    mod = ntpath if ("\\" in path or path[1:2] == ":") else posixpath
    parent = mod.dirname(mod.normpath(path))
    if mod.basename(path).casefold() in _STORE_FILES:
        parent = mod.dirname(parent)
    return parent if parent not in ("", "/", "\\") else ""


def _capped(title: str, entries: list[Listed]) -> Group:
    entries = sorted(entries, key=_key)
    if len(entries) <= GROUP_MAX:
        return Group(title, entries)
    return Group(title, [], letter_ranges(entries))


def letter_ranges(entries: Sequence[Listed], size: int = GROUP_MAX) -> list[Group]:
    """Sorted entries in chunks of at most ``size``, titled by their first letters ("A-F")."""
    ordered = sorted(entries, key=_key)
    chunks = max(1, -(-len(ordered) // size))
    per = -(-len(ordered) // chunks)  # even chunks: 30 -> 15 + 15, not 25 + 5
    groups = []
    for i in range(0, len(ordered), per):
        chunk = ordered[i : i + per]
        groups.append(Group(_range_title(chunk[0], chunk[-1]), chunk))
    return groups


def _range_title(first: Listed, last: Listed) -> str:
    a, b = first.project.name, last.project.name
    if a[:1].casefold() != b[:1].casefold():
        return f"{a[:1].upper()}-{b[:1].upper()}"
    if a.casefold() == b.casefold():
        return a
    same = next(
        (i for i, (x, y) in enumerate(zip(a.casefold(), b.casefold(), strict=False)) if x != y),
        min(len(a), len(b)),
    )
    # Same start: the first name, then the last one's part from the word where they differ
    # ("speech-sweep-001 … 089"), which reads like a range in a phone book.
    cut = max(b.rfind(sep, 0, same) for sep in "-_ ./") + 1
    return f"{a} … {b[cut:]}"


def _key(entry: Listed) -> str:
    return entry.project.name.casefold()
