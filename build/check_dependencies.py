"""Check every runtime dependency in pyproject.toml is inside a frozen launcher (issue 21).

    python build/check_dependencies.py EXE --site-packages DIR [--platform win32]

A dependency is there when each of its public top-level modules is in the exe's module archive
(PyInstaller's PYZ) or beside the exe in the bundle (a package collected as files, an extension
module). The module names come from the distribution installed in DIR, the Python the app was
frozen from: its ``top_level.txt``, else the first part of each path in its RECORD. A
distribution with no module of its own (``pyside6`` is a metapackage) is judged by what it
requires; an extra (``psycopg[binary]``) adds the distributions it requires.

The Windows release once missed ``keyring``: build/windows.sh kept its own list of what to
install, and nothing compared that list with pyproject.toml. Prints one line per dependency;
exits 1 when one is missing.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

sys.path.insert(0, str(Path(__file__).resolve().parent))
from windows_requirements import dist_name, runtime

_NOT_MODULES = (".dist-info", ".data", ".egg-info", "__pycache__", "..", "bin", "Scripts")


def installed(site_packages: Path) -> dict[str, metadata.Distribution]:
    """Every distribution in ``site_packages`` by its normalised name."""
    found = {}
    for dist in metadata.distributions(path=[str(site_packages)]):
        found.setdefault(dist_name(dist.metadata["Name"]), dist)
    return found


def top_level(dist: metadata.Distribution) -> set[str]:
    """The importable top-level names a distribution installs (``yaml``, ``_yaml`` ...)."""
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for path in dist.files or []:
        first = path.parts[0]
        if first.endswith(_NOT_MODULES) or first in _NOT_MODULES:
            continue
        if len(path.parts) == 1:
            if not first.endswith((".py", ".pyd", ".so")):
                continue
            first = first.split(".", 1)[0]
        names.add(first)
    return names


def _environment(platform: str, extra: str = "") -> dict[str, str]:
    """The marker environment of a plain install on ``platform`` (with one extra asked for)."""
    windows = platform == "win32"
    return {
        "sys_platform": platform,
        "platform_system": "Windows" if windows else "Linux",
        "os_name": "nt" if windows else "posix",
        "extra": extra,
    }


def distributions_of(
    requirement: str, dists: dict[str, metadata.Distribution], platform: str
) -> list[str]:
    """The distributions a runtime requirement stands for: itself, what its extras add on
    ``platform``, and for a metapackage what it requires."""
    req = Requirement(requirement)
    name = dist_name(req.name)
    out = [name]
    dist = dists.get(name)
    if dist is None:
        return out
    plain = _environment(platform)
    for text in dist.requires or []:
        sub = Requirement(text)
        applies = sub.marker is None or sub.marker.evaluate(plain)
        by_extra = (
            sub.marker is not None
            and not applies
            and any(sub.marker.evaluate(_environment(platform, extra)) for extra in req.extras)
        )
        if by_extra or (applies and not top_level(dist)):
            out.append(dist_name(sub.name))
    return out


def archive_modules(exe: Path) -> set[str]:
    """Every module name in the exe's PYZ archive (PyInstaller's own reader)."""
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    pkg = CArchiveReader(str(exe))
    names: set[str] = set()
    for entry, (*_, typecode) in pkg.toc.items():
        if typecode == "z":
            pyz = pkg.open_embedded_archive(entry)
            assert isinstance(pyz, ZlibArchiveReader)
            names.update(pyz.toc)
    return names


def on_disk(bundle: Path, module: str) -> bool:
    """A module collected as files: a package folder or an extension module in the bundle."""
    for root in (bundle, bundle / "_internal"):
        if (root / module).is_dir() or any(root.glob(f"{module}.*")):
            return True
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exe", type=Path, help="the frozen launcher's executable")
    ap.add_argument("--site-packages", type=Path, required=True)
    ap.add_argument("--platform", default=sys.platform, help="win32 for the Windows release")
    args = ap.parse_args()
    dists = installed(args.site_packages)
    modules = archive_modules(args.exe)
    bundle = args.exe.parent
    missing: list[str] = []
    checked = 0
    for requirement in runtime():
        for name in distributions_of(requirement, dists, args.platform):
            dist = dists.get(name)
            if dist is None:
                print(f"FAIL  {name} ({requirement}): not installed in {args.site_packages}")
                missing.append(name)
                continue
            public = sorted(m for m in top_level(dist) if not m.startswith("_")) or sorted(
                top_level(dist)
            )
            if not public:
                continue  # a metapackage: its requirements are checked in its place
            checked += 1
            absent = [m for m in public if m not in modules and not on_disk(bundle, m)]
            where = ", ".join(public)
            if absent:
                print(f"FAIL  {name} ({requirement}): {', '.join(absent)} not in the bundle")
                missing.append(name)
            else:
                print(f"PASS  {name} ({requirement}): {where}")
    print(
        f"OK: {checked} distributions of {len(runtime())} runtime dependencies in the bundle"
        if not missing
        else f"FAILED: missing from the bundle: {', '.join(missing)}"
    )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
