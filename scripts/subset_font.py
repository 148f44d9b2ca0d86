#!/usr/bin/env python3
"""Regenerate gradcap's embedded CJK UI font: assets/fonts/GradcapSansSC-Regular.otf.

What it does
------------
Takes the "Noto Sans CJK SC" Regular face out of Debian's ``fonts-noto-cjk``
package (NotoSansCJK-Regular.ttc, an OpenType collection; the SC face is the same
design and the same SIL OFL 1.1 licence as "Noto Sans SC"), and:

1. subsets it to every character of GBK (every valid 2-byte GBK sequence decoded
   with Python's ``gbk`` codec) plus printable ASCII, Latin-1, General Punctuation,
   CJK Symbols and Punctuation, Halfwidth and Fullwidth Forms, the middle-dot
   variants, check/cross marks and arrows, and U+20BB7 (𠮷) as a sample rare name
   character outside GBK;
2. keeps only the OpenType layout features a default shaper (harfrust, used by
   egui 0.37) turns on for horizontal text, and drops the vertical-metrics tables,
   which keeps locl/vert alternates (~18k extra glyphs) out of the file;
3. adds two glyphs the source font does not have at all:
   U+2252 ≒ (in GBK, A8 50): the font's fullwidth ＝ plus two round dots;
   U+2717 ✗ (BALLOT X): the font's × outline stretched to the ✓ box;
4. renames the family to "Gradcap Sans SC" everywhere it appears (name IDs
   1, 3, 4, 6 and 16/17 if present, in every language, plus the CFF font names),
   as the OFL requires for a Modified Version;
5. keeps the CFF (PostScript) outlines and their hints: skrifa (egui 0.37's font
   parser) reads CFF and egui hints by default, which for CFF uses the PostScript
   hints. ``--no-hinting`` drops them (about 1 MB smaller, blurrier at 12-14 px);
6. writes OFL.txt from the licence text the Debian package ships in
   /usr/share/doc/fonts-noto-cjk/copyright, headed by the copyright notice taken
   from the font itself;
7. checks the result (every GBK character maps to a non-empty glyph, the extras
   are present, the names are renamed) and exits non-zero if not.

The output is deterministic for a given source file and fontTools version
(the head.modified timestamp is kept from the source).

How to get the source font
--------------------------
Either install the package (needs root; ~91 MB under /usr/share):

    apt-get update && apt-get install -y fonts-noto-cjk
    python3 scripts/subset_font.py

or unpack it without installing and point --deb-root at the unpacked tree:

    apt-get update && (cd /tmp && apt-get download fonts-noto-cjk)
    dpkg-deb -x /tmp/fonts-noto-cjk_*.deb /tmp/noto-cjk
    python3 scripts/subset_font.py --deb-root /tmp/noto-cjk

Tested with Debian 12 fonts-noto-cjk 1:20220127+repack1-1 (Noto Sans CJK 2.004)
and fonttools 4.68.0 (``pip install fonttools==4.68.0``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

SOURCE_TTC = "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SOURCE_COPYRIGHT = "usr/share/doc/fonts-noto-cjk/copyright"
SOURCE_CHANGELOG = "usr/share/doc/fonts-noto-cjk/changelog.Debian.gz"
SOURCE_FACE = "Noto Sans CJK SC"
EXPECTED_DEB_VERSION = "1:20220127+repack1-1"
EXPECTED_TTC_SHA256 = "b76b0433203017ca80401b2ee0dd69350349871c4b19d504c34dbdd80541690a"

FAMILY = "Gradcap Sans SC"
PS_NAME = "GradcapSansSC-Regular"
OUT_NAME = PS_NAME + ".otf"

# Features a default horizontal shaping run turns on. Everything else (locl for
# JP/KR/TC, vert/vrt2, halt/palt/...) is dropped together with the glyphs only
# reachable through it.
LAYOUT_FEATURES = ["ccmp", "calt", "clig", "liga", "rlig", "rclt", "kern", "mark", "mkmk", "curs", "dist"]

# Characters the app needs besides GBK. Each must end up mapped.
REQUIRED_EXTRAS = "·•・．‧✓✗→←0123456789"
# Sample rare name character outside GBK (CJK Ext. B), kept because the source has it.
RARE_EXTRAS = "\U00020BB7"  # 𠮷
# Whole blocks: whatever of them the source font has is kept.
BLOCKS = {
    "Basic Latin (printable)": range(0x20, 0x7F),
    "Latin-1 Supplement (printable)": range(0xA0, 0x100),
    "General Punctuation": range(0x2000, 0x2070),
    "CJK Symbols and Punctuation": range(0x3000, 0x3040),
    # Rarer name characters (e.g. 䶮) that GBK lacks but GB 18030 requires.
    "CJK Unified Ideographs Extension A": range(0x3400, 0x4DC0),
    "Halfwidth and Fullwidth Forms": range(0xFF00, 0xFFF0),
}


def gbk_chars() -> set[str]:
    """Every character that a valid 2-byte GBK sequence decodes to."""
    chars: set[str] = set()
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                text = bytes((lead, trail)).decode("gbk")
            except UnicodeDecodeError:
                continue
            assert len(text) == 1, (hex(lead), hex(trail), text)
            chars.add(text)
    return chars


def wanted_codepoints() -> set[int]:
    cps = {ord(c) for c in gbk_chars()}
    for block in BLOCKS.values():
        cps.update(block)
    cps.update(ord(c) for c in REQUIRED_EXTRAS + RARE_EXTRAS)
    return cps


def find_face_index(path: Path, family: str) -> int:
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(path), lazy=True)
    for i, face in enumerate(coll.fonts):
        if face["name"].getDebugName(1) == family:
            return i
    raise SystemExit(f"{path}: no face with family name {family!r}")


# ---------------------------------------------------------------- new glyphs


def _circle(pen, cx: float, cy: float, r: float) -> None:
    """Counter-clockwise circle from four cubic arcs."""
    k = 0.5523 * r
    pen.moveTo((cx + r, cy))
    pen.curveTo((cx + r, cy + k), (cx + k, cy + r), (cx, cy + r))
    pen.curveTo((cx - k, cy + r), (cx - r, cy + k), (cx - r, cy))
    pen.curveTo((cx - r, cy - k), (cx - k, cy - r), (cx, cy - r))
    pen.curveTo((cx + k, cy - r), (cx + r, cy - k), (cx + r, cy))
    pen.closePath()


def _bounds(glyph_set, name: str):
    bp = BoundsPen(glyph_set)
    glyph_set[name].draw(bp)
    return bp.bounds


def add_cff_glyph(font: TTFont, cmap_cp: int, draw, advance: int, like_glyph: str) -> str:
    """Append a glyph to a CID-keyed CFF font and map cmap_cp to it.

    `draw(pen)` draws the outline; `like_glyph` picks the FDArray entry
    (private dict: hint zones, widths) the new glyph shares.
    """
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    charstrings = top.CharStrings
    assert hasattr(top, "ROS"), "expected a CID-keyed CFF"
    order = font.getGlyphOrder()
    used = {int(n[3:]) for n in order if n.startswith("cid")}
    cid = max(c for c in range(1, top.CIDCount) if c not in used)
    name = f"cid{cid:05d}"

    _, fd_index = charstrings.getItemAndSelector(like_glyph)
    private = top.FDArray[fd_index].Private
    width_arg = None if advance == private.defaultWidthX else advance - private.nominalWidthX
    t2pen = T2CharStringPen(width_arg, None)
    draw(t2pen)
    charstring = t2pen.getCharString(private=private, globalSubrs=charstrings.globalSubrs)

    charstrings.charStringsIndex.append(charstring)
    charstrings.charStrings[name] = len(charstrings.charStringsIndex) - 1
    top.FDSelect.append(fd_index)
    top.charset.append(name)
    font.setGlyphOrder(order + [name])

    bp = BoundsPen(None)
    draw(bp)
    font["hmtx"][name] = (advance, round(bp.bounds[0]))
    for table in font["cmap"].tables:
        if table.isUnicode() and (cmap_cp <= 0xFFFF or table.format in (12, 13)):
            table.cmap[cmap_cp] = name
    return name


def add_missing_glyphs(font: TTFont) -> list[str]:
    gs = font.getGlyphSet()
    cmap = font.getBestCmap()
    notes = []

    # U+2252 ≒ APPROXIMATELY EQUAL TO OR THE IMAGE OF (GBK A850): fullwidth ＝
    # with a dot above its left end and one below its right end.
    if 0x2252 not in cmap:
        eq = cmap[0xFF1D]  # ＝ FULLWIDTH EQUALS SIGN
        x0, y0, x1, y1 = _bounds(gs, eq)
        bar = 69  # stroke thickness of ＝ in this font
        r = 50  # dot radius (dot ≈ 1.45 × bar)
        gap = 70
        inset = 80

        def draw_approx(pen):
            gs[eq].draw(pen)
            _circle(pen, x0 + inset, y1 + gap + r, r)
            _circle(pen, x1 - inset, y0 - gap - r, r)

        add_cff_glyph(font, 0x2252, draw_approx, font["hmtx"][eq][0], like_glyph=eq)
        notes.append("U+2252 ≒ synthesized from ＝ + two dots (absent from Noto Sans CJK)")

    # U+2717 ✗ BALLOT X: the × outline stretched to ✓'s box and advance.
    if 0x2717 not in cmap:
        times, check = cmap[0xD7], cmap[0x2713]
        tx0, ty0, tx1, ty1 = _bounds(gs, times)
        adv = font["hmtx"][check][0]
        bx0, bx1, by0, by1 = 40, adv - 40, 0, 730
        sx, sy = (bx1 - bx0) / (tx1 - tx0), (by1 - by0) / (ty1 - ty0)
        transform = (sx, 0, 0, sy, bx0 - tx0 * sx, by0 - ty0 * sy)

        def draw_x(pen):
            gs[times].draw(TransformPen(pen, transform))

        add_cff_glyph(font, 0x2717, draw_x, adv, like_glyph=check)
        notes.append("U+2717 ✗ synthesized from × scaled to the ✓ box (absent from Noto Sans CJK)")
    return notes


# ---------------------------------------------------------------- renaming


def rename(font: TTFont) -> None:
    name = font["name"]
    old_version = name.getDebugName(5) or ""
    for rec in list(name.names):
        if rec.nameID in (16, 17):  # typographic family/subfamily: same as 1/2 here
            name.removeNames(nameID=rec.nameID)
    for rec in name.names:
        if rec.nameID in (1, 4):
            rec.string = FAMILY
        elif rec.nameID == 3:
            rec.string = f"2.004;GRADCAP;{PS_NAME}"
        elif rec.nameID == 6:
            rec.string = PS_NAME
        elif rec.nameID == 5:
            rec.string = old_version + ";gradcap GBK subset"
    for rec in name.names:
        text = rec.toUnicode()
        if rec.nameID in (1, 3, 4, 6) and ("Noto" in text or "Source" in text):
            raise SystemExit(f"name ID {rec.nameID} still says {text!r}")

    cff = font["CFF "].cff
    old_ps = cff.fontNames[0]  # "NotoSansCJKjp-Regular": the CFF is shared by all faces
    cff.fontNames = [PS_NAME]
    top = cff.topDictIndex[0]
    top.FamilyName = FAMILY
    top.FullName = FAMILY + " Regular"
    for fd in getattr(top, "FDArray", []):
        if hasattr(fd, "FontName"):
            fd.FontName = fd.FontName.replace(old_ps, PS_NAME)


# ---------------------------------------------------------------- licence


def write_ofl(copyright_file: Path, font: TTFont, out: Path) -> None:
    """OFL.txt = the font's own copyright notice + the OFL text Debian ships."""
    text = copyright_file.read_text(encoding="utf-8")
    m = re.search(r"^License: SIL-1\.1\n((?: .*\n?)+)", text, re.M)
    if not m:
        raise SystemExit(f"{copyright_file}: no 'License: SIL-1.1' paragraph")
    body = []
    for line in m.group(1).splitlines():
        line = line[1:]  # DEP-5 continuation lines are indented by one space
        body.append("" if line == "." else line)
    notice = font["name"].getDebugName(0)
    cff_notice = font["CFF "].cff.topDictIndex[0].Notice
    header = [
        f"Copyright notice in the font (name ID 0): {notice}",
        f"CFF Notice: {cff_notice}",
        "",
        f"Licence statement in the font (name ID 13): {font['name'].getDebugName(13)}",
        "",
        f'"{FAMILY}" ({OUT_NAME}) is a Modified Version of Noto Sans CJK SC Regular',
        "(subset, two glyphs added, renamed) and is distributed under the same licence.",
        "The licence text below is taken verbatim (DEP-5 indentation removed) from",
        f"/{SOURCE_COPYRIGHT} in Debian's fonts-noto-cjk package.",
        "",
        "Upstream noto-cjk's own LICENSE file (also shipped as LICENSE_FONT in the npm",
        "package @expo-google-fonts/noto-sans-sc 0.4.3) heads the same licence with:",
        "  Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'",
        "The modified font's name uses neither 'Source' nor 'Noto' (a trademark of Google).",
        "",
    ]
    out.write_text("\n".join(header + body).rstrip("\n") + "\n", encoding="utf-8")


# ---------------------------------------------------------------- checks


def verify(path: Path) -> list[str]:
    font = TTFont(str(path))
    cmap = font.getBestCmap()
    gs = font.getGlyphSet()
    problems = []
    report = []

    def has_ink(cp: int) -> bool:
        bp = BoundsPen(gs)
        gs[cmap[cp]].draw(bp)
        return bp.bounds is not None

    gbk = gbk_chars()
    missing = sorted(c for c in gbk if ord(c) not in cmap)
    blank = sorted(c for c in gbk if ord(c) in cmap and not c.isspace() and not has_ink(ord(c)))
    if missing or blank:
        problems.append(f"GBK: {len(missing)} unmapped {missing[:20]}, {len(blank)} blank {blank[:20]}")
    report.append(f"GBK: {len(gbk) - len(missing)}/{len(gbk)} characters mapped")
    for c in REQUIRED_EXTRAS + "喆堃赟王≒":
        if ord(c) not in cmap or not has_ink(ord(c)):
            problems.append(f"required U+{ord(c):04X} {c} missing")
    for c in RARE_EXTRAS:
        report.append(f"U+{ord(c):04X} {c}: {'covered' if ord(c) in cmap else 'NOT covered'}")
    for label, block in BLOCKS.items():
        absent = [cp for cp in block if cp not in cmap]
        report.append(
            f"{label}: {len(block) - len(absent)}/{len(block)} mapped"
            + (f" (absent from source: {' '.join(f'U+{cp:04X}' for cp in absent)})" if absent else "")
        )
    for rec in font["name"].names:
        if rec.nameID in (1, 3, 4, 6, 16, 17) and "Noto" in rec.toUnicode():
            problems.append(f"name ID {rec.nameID} not renamed: {rec.toUnicode()!r}")
    report.append(f"glyphs: {font['maxp'].numGlyphs}; family {font['name'].getDebugName(1)!r}; "
                  f"PostScript {font['name'].getDebugName(6)!r}")
    for line in report:
        print("  " + line)
    return problems


# ---------------------------------------------------------------- main


def deb_version(root: Path) -> str:
    try:
        with gzip.open(root / SOURCE_CHANGELOG, "rt", encoding="utf-8") as fh:
            first = fh.readline()
        return first.split("(", 1)[1].split(")", 1)[0]
    except (OSError, IndexError):
        return "unknown"


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deb-root", type=Path, default=Path("/"),
                    help="root the fonts-noto-cjk package is installed or unpacked under (default /)")
    ap.add_argument("--out-dir", type=Path, default=repo / "assets" / "fonts")
    ap.add_argument("--no-hinting", action="store_true", help="drop CFF hints (smaller, blurrier)")
    args = ap.parse_args()

    src = args.deb_root / SOURCE_TTC
    if not src.is_file():
        raise SystemExit(f"{src} not found: install or unpack Debian's fonts-noto-cjk (see --help / module docstring)")
    version = deb_version(args.deb_root)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    print(f"source: {src} (fonts-noto-cjk {version}, sha256 {sha[:16]}...)")
    if version != EXPECTED_DEB_VERSION or sha != EXPECTED_TTC_SHA256:
        print(f"warning: expected fonts-noto-cjk {EXPECTED_DEB_VERSION} / sha256 {EXPECTED_TTC_SHA256[:16]}...; "
              "the output will differ from the committed asset", file=sys.stderr)

    index = find_face_index(src, SOURCE_FACE)
    font = TTFont(str(src), fontNumber=index, recalcTimestamp=False)

    opts = subset.Options()
    opts.layout_features = LAYOUT_FEATURES
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = not args.no_hinting
    opts.drop_tables += ["vhea", "vmtx", "VORG"]
    subsetter = subset.Subsetter(opts)
    subsetter.populate(unicodes=wanted_codepoints())
    subsetter.subset(font)

    for note in add_missing_glyphs(font):
        print("  " + note)
    rename(font)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / OUT_NAME
    font.save(str(out))
    write_ofl(args.deb_root / SOURCE_COPYRIGHT, font, args.out_dir / "OFL.txt")
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {hashlib.sha256(out.read_bytes()).hexdigest()})")
    print(f"wrote {args.out_dir / 'OFL.txt'}")

    problems = verify(out)
    for p in problems:
        print("ERROR: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
