"""Generate MLflow Launcher's icons into assets/ (deterministic: same bytes on every run).

    python build/make_icons.py [--out DIR] [--preview PNG]

The glyph: a deep-blue rounded tile with a light rim (so it reads on light and dark task bars),
a white "launch" play triangle and a rising cyan line chart. Sizes up to 32 px use a simplified
drawing laid out on the pixel grid. Tray variants add a state badge in the bottom-right corner.

Writes: launcher.svg (the full-detail drawing, also the source every size is rendered from),
launcher.ico (16, 24, 32, 48, 64, 128, 256 px; PNG-compressed entries, valid since Windows Vista),
launcher.png (256 px), launcher-64.png, and tray-{idle,starting,running,failed}.png (32 px) plus
tray-{state}@2x.png (64 px). Needs only PySide6 (QtGui + QtSvg), rendered offscreen.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import struct
import sys
import zlib

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
TRAY_SIZES = {"": 32, "@2x": 64}
STATES = ("idle", "starting", "running", "failed")

# Palette.
TILE_TOP = "#2563C9"
TILE_BOTTOM = "#0B2F73"
RIM = "#DCE9FF"  # light rim: the tile's edge on dark task bars
EDGE = "#061A40"  # dark hairline outside the rim: the edge on light task bars
GLYPH = "#FFFFFF"
CHART = "#4FD1F5"  # MLflow-ish cyan; kept apart from the "running" green
BADGE = {
    "idle": "#9AA3AE",
    "starting": "#FFB300",
    "running": "#2EB84B",
    "failed": "#E5302A",
}


def _tile(unit: float, edge: float, rim: float, radius: float) -> str:
    """Rounded tile filling a (unit x unit) view box: dark edge, light rim, gradient face."""
    parts = [
        f"""
  <defs>
    <linearGradient id="face" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="{TILE_TOP}"/>
      <stop offset="1" stop-color="{TILE_BOTTOM}"/>
    </linearGradient>
  </defs>"""
    ]
    inset = 0.0
    for width, fill in ((edge, EDGE), (rim, RIM), (None, "url(#face)")):
        if width == 0:
            continue
        parts.append(
            f'\n  <rect x="{inset:g}" y="{inset:g}" width="{unit - 2 * inset:g}" '
            f'height="{unit - 2 * inset:g}" rx="{radius - inset:g}" fill="{fill}"/>'
        )
        inset += width or 0
    return "".join(parts)


def glyph_svg(detail: str) -> str:
    """The app glyph as SVG.

    detail: 'full' (a 256 grid, for 48 px and up), '32' (a 32 grid, for 25 to 40 px) or '16' (a
    16 grid, for 24 px and below): the small ones drop detail and put edges on whole pixels.
    """
    if detail == "full":
        unit = 256
        body = (
            _tile(unit, edge=5, rim=9, radius=52)
            + f"""
  <polyline points="40,210 92,182 130,198 214,122" fill="none" stroke="{CHART}"
            stroke-width="17" stroke-linecap="round" stroke-linejoin="round"/>
  <circle cx="214" cy="122" r="16" fill="{CHART}"/>
  <path d="M 78 46 L 78 156 L 170 101 Z" fill="{GLYPH}" stroke="{GLYPH}" stroke-width="18"
        stroke-linejoin="round"/>"""
        )
    elif detail == "32":
        unit = 32
        body = (
            _tile(unit, edge=1, rim=1.5, radius=7)
            + f"""
  <polyline points="5.5,26.5 11,23.5 15,25 26.5,15.5" fill="none" stroke="{CHART}"
            stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>
  <path d="M 10 5.5 L 10 19 L 21.5 12.25 Z" fill="{GLYPH}" stroke="{GLYPH}" stroke-width="2"
        stroke-linejoin="round"/>"""
        )
    elif detail == "16":
        unit = 16
        body = (
            _tile(unit, edge=0, rim=1, radius=3.5)
            + f"""
  <polyline points="3,13 6.5,11.2 8.5,12.2 13,8.5" fill="none" stroke="{CHART}"
            stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>
  <path d="M 5 2.5 L 5 10 L 11.5 6.25 Z" fill="{GLYPH}"/>"""
        )
    else:
        raise ValueError(detail)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{unit}" height="{unit}" '
        f'viewBox="0 0 {unit} {unit}">\n'
        "  <title>MLflow Launcher</title>"
        f"{body}\n</svg>\n"
    )


def detail_for(size: int) -> str:
    return "16" if size <= 24 else "32" if size <= 40 else "full"


def badge_svg(state: str, unit: int = 64) -> str:
    """The tray state badge on a (unit x unit) canvas: a dot in the bottom-right corner."""
    r, cx, cy, ring = 14.5, 48.5, 48.5, 3.25
    mark = ""
    if state == "failed":  # a white exclamation mark, so red is not the only cue
        mark = (
            f'<rect x="{cx - 2.5:g}" y="{cy - 10:g}" width="5" height="12" rx="2" fill="#FFFFFF"/>'
            f'<circle cx="{cx:g}" cy="{cy + 6.5:g}" r="2.8" fill="#FFFFFF"/>'
        )
    elif state == "running":  # a white tick
        mark = (
            f'<polyline points="{cx - 7:g},{cy:g} {cx - 2:g},{cy + 5:g} {cx + 7.5:g},{cy - 5.5:g}" '
            'fill="none" stroke="#FFFFFF" stroke-width="4" stroke-linecap="round" '
            'stroke-linejoin="round"/>'
        )
    elif state == "starting":  # three dots: "in progress"
        mark = "".join(
            f'<circle cx="{cx + dx:g}" cy="{cy:g}" r="2.6" fill="#5A3B00"/>' for dx in (-7, 0, 7)
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{unit}" height="{unit}" '
        f'viewBox="0 0 {unit} {unit}">\n'
        f'  <circle cx="{cx:g}" cy="{cy:g}" r="{r + ring + 1.2:g}" fill="{EDGE}"/>\n'
        f'  <circle cx="{cx:g}" cy="{cy:g}" r="{r + ring:g}" fill="#FFFFFF"/>\n'
        f'  <circle cx="{cx:g}" cy="{cy:g}" r="{r:g}" fill="{BADGE[state]}"/>\n'
        f"  {mark}\n</svg>\n"
    )


def render(svgs: list[str], size: int) -> QImage:
    """Render SVG layers, in order, into a transparent size x size image."""
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    for svg in svgs:
        r = QSvgRenderer(QByteArray(svg.encode()))
        if not r.isValid():
            raise RuntimeError("invalid SVG")
        r.render(p, QRectF(0, 0, size, size))
    p.end()
    return img


def icon_image(size: int, state: str | None = None) -> QImage:
    layers = [glyph_svg(detail_for(size))]
    if state is not None:
        layers.append(badge_svg(state))
    return render(layers, size)


def png_bytes(img: QImage) -> bytes:
    """A minimal, deterministic PNG (RGBA, 8 bit, no metadata chunks)."""
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    data = bytes(img.constBits())[: bpl * h]
    raw = b"".join(b"\x00" + data[y * bpl : y * bpl + 4 * w] for y in range(h))

    def chunk(tag: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(tag + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICO container: ICONDIR, one ICONDIRENTRY per image, then the PNG payloads."""
    sizes = sorted(pngs)
    out = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    for s in sizes:
        dim = 0 if s >= 256 else s  # 0 means 256
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(pngs[s]), offset)
        offset += len(pngs[s])
    return out + b"".join(pngs[s] for s in sizes)


def preview(path: pathlib.Path) -> None:
    """All sizes and tray states on a light and a dark strip (for looking at, not shipping)."""
    rows = [[(s, None) for s in ICO_SIZES]]
    rows += [[(sz, st) for st in STATES for sz in TRAY_SIZES.values()]]
    bgs = ["#F3F3F3", "#FFFFFF", "#202020", "#1C2A3A"]
    pad = 12
    width = max(sum(s + pad for s, _ in row) for row in rows) + pad
    row_h = [max(s for s, _ in row) + pad for row in rows]
    strip_h = sum(row_h) + pad
    canvas = QImage(width, strip_h * len(bgs), QImage.Format.Format_ARGB32)
    p = QPainter(canvas)
    for i, bg in enumerate(bgs):
        p.fillRect(0, i * strip_h, width, strip_h, QColor(bg))
        y = i * strip_h + pad
        for row, rh in zip(rows, row_h, strict=True):
            x = pad
            for s, st in row:
                p.drawImage(x, y, icon_image(s, st))
                x += s + pad
            y += rh
    p.end()
    canvas.save(str(path))


def main() -> int:
    ap = argparse.ArgumentParser(description="Generate the app's icons.")
    root = pathlib.Path(__file__).resolve().parent.parent
    ap.add_argument("--out", type=pathlib.Path, default=root / "assets")
    ap.add_argument("--preview", type=pathlib.Path, help="also write a preview PNG here")
    args = ap.parse_args()
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out: pathlib.Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    files: dict[str, bytes] = {"launcher.svg": glyph_svg("full").encode()}
    pngs = {s: png_bytes(icon_image(s)) for s in ICO_SIZES}
    files["launcher.ico"] = ico_bytes(pngs)
    files["launcher.png"] = pngs[256]
    files["launcher-64.png"] = pngs[64]
    for state in STATES:
        for suffix, size in TRAY_SIZES.items():
            files[f"tray-{state}{suffix}.png"] = png_bytes(icon_image(size, state))
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(f"{out / name}  {len(data)} bytes")
    if args.preview:
        preview(args.preview)
        print(f"preview: {args.preview}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
