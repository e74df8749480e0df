"""Check a built Windows .exe: architecture, subsystem, embedded icon and version info.

    python build/check_exe.py EXE --ico assets/launcher.ico --version 0.1.0 \\
        [--subsystem gui|console]

Asserts that EXE is PE32+ for x86-64, that its subsystem is WINDOWS_GUI (or console with
--subsystem console, for a CLI twin), that every image of the .ico is present byte-for-byte among
the RT_ICON resources (and an RT_GROUP_ICON exists), and that the version resource carries VERSION
as FileVersion or ProductVersion. Prints one line per check; exits 1 if any fails. Needs pefile.
"""

from __future__ import annotations

import argparse
import pathlib
import struct
import sys

import pefile

RT_ICON = pefile.RESOURCE_TYPE["RT_ICON"]
RT_GROUP_ICON = pefile.RESOURCE_TYPE["RT_GROUP_ICON"]
SUBSYSTEMS = {
    "gui": pefile.SUBSYSTEM_TYPE["IMAGE_SUBSYSTEM_WINDOWS_GUI"],
    "console": pefile.SUBSYSTEM_TYPE["IMAGE_SUBSYSTEM_WINDOWS_CUI"],
}


def ico_images(data: bytes) -> list[tuple[int, bytes]]:
    """(width, image bytes) for every entry of an .ico file."""
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    if reserved != 0 or kind != 1 or count == 0:
        raise ValueError("not an .ico file")
    images = []
    for i in range(count):
        width, _h, _c, _r, _p, _b, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        if offset + size > len(data):
            raise ValueError(f"entry {i} points past the end of the file")
        images.append((width or 256, data[offset : offset + size]))
    return images


def resources(pe: pefile.PE, type_id: int) -> list[bytes]:
    """The data of every resource of one type (all names, all languages)."""
    out: list[bytes] = []
    root = getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)
    if root is None:
        return out
    for type_entry in root.entries:
        if type_entry.id != type_id:
            continue
        for name_entry in type_entry.directory.entries:
            for lang_entry in name_entry.directory.entries:
                d = lang_entry.data.struct
                out.append(pe.get_data(d.OffsetToData, d.Size))
    return out


def version_strings(pe: pefile.PE) -> dict[str, str]:
    out: dict[str, str] = {}
    for file_info in getattr(pe, "FileInfo", None) or []:
        for info in file_info:
            for table in getattr(info, "StringTable", []):
                for k, v in table.entries.items():
                    out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


def check(exe: pathlib.Path, ico: pathlib.Path | None, version: str | None, subsystem: str) -> bool:
    pe = pefile.PE(str(exe), fast_load=True)
    pe.parse_data_directories(
        directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]]
    )
    ok = True

    def report(passed: bool, what: str) -> None:
        nonlocal ok
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {what}")

    magic = pe.OPTIONAL_HEADER.Magic
    machine = pe.FILE_HEADER.Machine
    report(
        magic == pefile.OPTIONAL_HEADER_MAGIC_PE_PLUS
        and machine == pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_AMD64"],
        f"PE32+ x86-64 (magic {magic:#x}, machine {machine:#x})",
    )
    sub = pe.OPTIONAL_HEADER.Subsystem
    report(
        sub == SUBSYSTEMS[subsystem],
        f"subsystem {subsystem} (found {pefile.SUBSYSTEM_TYPE.get(sub, sub)})",
    )

    if ico is not None:
        icons = resources(pe, RT_ICON)
        report(bool(resources(pe, RT_GROUP_ICON)), f"RT_GROUP_ICON present ({len(icons)} RT_ICON)")
        present = set(icons)
        for width, image in ico_images(ico.read_bytes()):
            report(image in present, f"icon {width}x{width} ({len(image)} bytes) embedded as is")

    if version is not None:
        strings = version_strings(pe)
        found = {k: strings.get(k) for k in ("FileVersion", "ProductVersion")}
        report(
            bool(strings) and version in found.values(),
            f"version info {version!r} (found {found})",
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exe", type=pathlib.Path)
    ap.add_argument("--ico", type=pathlib.Path, help="the .ico whose images must be embedded")
    ap.add_argument("--version", help="expected FileVersion/ProductVersion string")
    ap.add_argument("--subsystem", choices=sorted(SUBSYSTEMS), default="gui")
    args = ap.parse_args(argv)
    ok = check(args.exe, args.ico, args.version, args.subsystem)
    print("OK" if ok else "FAILED", args.exe)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
