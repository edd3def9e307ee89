"""Finding the Chinese font embedded in printed papers (Noto Sans CJK SC, Debian fonts-noto-cjk).

The font is embedded (subset) in every PDF so a paper looks the same on any printer. Override the
file with the layout's ``font`` key or the ``JIPIAO_BALLOT_FONT`` environment variable (a TTF, OTF
or TTC/OTC file; in a collection the Simplified Chinese face is chosen by name). The folders
searched are Debian's unless ``JIPIAO_FONT_DIRS`` names others (separated by ``os.pathsep``).

Without a font nothing can be printed: ``FontMissingError`` is a 503 ``font_missing`` that says what
to install, and the server says it once at start (``missing_font_message``), never a 500.
"""

import copy
import functools
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTCollection, TTFont, TTLibError  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from app.errors import ServiceUnavailable

FONT_ENV = "JIPIAO_BALLOT_FONT"
FONT_DIRS_ENV = "JIPIAO_FONT_DIRS"
INSTALL_HINT = "apt-get install fonts-noto-cjk"
DEBIAN_FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
)
REGULAR_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf")
BOLD_FILES = ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf")
FAMILY = "cjk"  # the name documents set_font by


class FontMissingError(ServiceUnavailable):
    """No usable Chinese font (503 ``font_missing``): the message says what to install, in Chinese
    and English."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__("font_missing", message_zh, message_en)

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


def _file_missing(path: Path, why_en: str) -> FontMissingError:
    return FontMissingError(
        message_zh="找不到字体文件：设置中指定的中文字体文件不存在或无法读取，无法生成打印文件；"
        "请改正设置，或安装思源黑体字体包（详见英文说明）",
        message_en=f"font file not found or unreadable: {path} ({why_en}); name an existing "
        f"TTF/OTF/TTC file in {FONT_ENV} or the layout's font, or install the font: {INSTALL_HINT}",
    )


@dataclass(frozen=True, slots=True)
class FontFace:
    path: Path
    index: int = 0  # the face inside a TTC/OTC collection


# The first bytes of a TrueType, OpenType (CFF) or collection file.
_FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")


@functools.lru_cache(maxsize=8)
def _face(path: Path) -> FontFace:
    if not path.is_file():
        raise _file_missing(path, "no such file")
    try:
        with path.open("rb") as file:
            magic = file.read(4)
    except OSError as exc:
        raise _file_missing(path, f"cannot read it: {exc}") from None
    if magic not in _FONT_MAGIC:  # checked here: fontTools leaves a file open when it fails
        raise _file_missing(path, "not a usable font: no TrueType/OpenType header")
    if path.suffix.lower() not in (".ttc", ".otc"):
        return FontFace(path)
    try:
        collection = TTCollection(str(path), lazy=True)
    except (TTLibError, OSError) as exc:
        raise _file_missing(path, f"cannot read it: {exc}") from None
    try:
        names = [font["name"].getDebugName(4) or "" for font in collection.fonts]
    finally:
        collection.close()
    for wanted in ("CJK SC", "SC", "CN"):
        for index, name in enumerate(names):
            if wanted in name and "Mono" not in name:
                return FontFace(path, index)
    return FontFace(path, 0)


def font_dirs() -> tuple[Path, ...]:
    """The folders searched for Noto Sans CJK: ``JIPIAO_FONT_DIRS`` if set, else Debian's."""
    named = os.environ.get(FONT_DIRS_ENV)
    if named is None:
        return DEBIAN_FONT_DIRS
    return tuple(Path(folder) for folder in named.split(os.pathsep) if folder)


def find_cjk_fonts(
    override: str | None = None, *, folders: tuple[Path, ...] | None = None
) -> tuple[FontFace, FontFace]:
    """The regular and bold faces to embed; the override (layout ``font`` or the environment)
    is used for both. ``folders`` defaults to ``font_dirs()``."""
    chosen = override or os.environ.get(FONT_ENV)
    if chosen:
        face = _face(Path(chosen))
        return face, face
    for folder in font_dirs() if folders is None else folders:
        for regular_name, bold_name in zip(REGULAR_FILES, BOLD_FILES, strict=True):
            regular = folder / regular_name
            if regular.is_file():
                bold = folder / bold_name
                return _face(regular), _face(bold if bold.is_file() else regular)
    raise FontMissingError(
        message_zh="服务器上没有中文字体（思源黑体），无法生成打印文件：请管理员安装思源黑体字体包"
        "（安装命令见英文说明），或在设置中指定一个字体文件",
        message_en="no Chinese font (Noto Sans CJK) on the server, so no PDF can be printed: "
        f"install it with `{INSTALL_HINT}` (scripts/install does), or set {FONT_ENV} to a "
        "font file (TTF, OTF or TTC)",
    )


def missing_font_message(override: str | None = None) -> str | None:
    """One line for the log at start when printing would fail (None when a font is found)."""
    try:
        find_cjk_fonts(override)
    except FontMissingError as exc:
        return f"打印不可用 / printing unavailable: {exc.message_en}"
    return None


def cjk_pdf(page_format: str | tuple[float, float], creator: str, fonts: tuple[FontFace, FontFace]
            ) -> FPDF:  # fmt: skip
    """A portrait fpdf2 document in millimetres, no margins or automatic page breaks, with the
    regular and bold CJK faces registered as ``cjk`` (embedded as subsets when used)."""
    pdf = FPDF(orientation="portrait", unit="mm", format=page_format)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator(creator)
    regular, bold = fonts
    for style, face in (("", regular), ("B", bold)):
        try:
            parsed = _parsed_face(face, style)
            if parsed is None:
                pdf.add_font(FAMILY, style, fname=str(face.path), collection_font_number=face.index)
            else:
                _add_parsed_font(pdf, parsed)
        except (TTLibError, OSError, struct.error, ValueError, KeyError, IndexError) as exc:
            close_fonts(pdf)
            raise _file_missing(face.path, f"not a usable font: {exc}") from None
    return pdf


def close_fonts(pdf: FPDF) -> None:
    """Close the font files fpdf2 keeps open (fontTools reads them lazily)."""
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


# fpdf2's ``add_font`` parses the face's cmap and advance widths into a ``TTFFont`` for every
# document (0.25 s of CPU for Noto CJK's two faces), and writing the document out, fontTools'
# subsetter decompiles the cmap and the metrics again from the file when they were not (another
# 0.15 s). Both are done once per process (``_parsed_face``); every document gets its own
# ``TTFFont`` made from it (``_add_parsed_font``): what is only read is shared, what a document
# changes is its own. Together these are the slots of fpdf2 2.8's ``TTFFont``: an fpdf2 whose
# font has other slots is not second-guessed, every document parses the face itself as before
# (``_parsed_face`` gives None), and tests/printing/test_fonts_shared.py names the slots.
SHARED_SLOTS = frozenset(
    {
        "type", "name", "glyph_ids", "cmap", "sp", "ss", "up", "ut", "ttffile", "fontkey",
        "emphasis", "scale", "palette_index", "is_compressed", "is_cff", "is_cid_keyed",
        "is_symbol", "cff_ros", "collection_font_number", "color_font", "unicode_range",
    }
)  # fmt: skip
OWN_SLOTS = frozenset(
    {
        "i",  # the font's number in this document
        "ttfont",  # output subsets it in place and closes it
        "desc",  # output gives it this document's object number and font file
        "cw",  # a defaultdict: measuring a character the font lacks adds its key
        "subset", "missing_glyphs", "biggest_size_pt", "_hbfont",  # what this document used
    }
)  # fmt: skip
# The tables of the face given decompiled to each document's fontTools font, each a shallow copy:
# the subsetter replaces their mappings (cmap's subtables and their cmap and uvsDict, hmtx's and
# vmtx's metrics) with new ones, it does not change them; the shared ones are only read. The
# list of cmap subtables is each document's own (compiling sorts it). A fontTools that changed
# them in place would change the next document's bytes, which tests/printing/test_fonts_shared.py
# compares with fpdf2's own (on a TrueType face: fpdf2 embeds only the CFF table of Noto CJK).
DECOMPILED_TABLES = ("cmap", "hmtx", "vmtx")
_parse_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ParsedFace:
    font: TTFFont  # made for a scratch document, never drawn with
    tables: dict[str, Any]  # DECOMPILED_TABLES the face has


@functools.lru_cache(maxsize=8)
def _parsed_face_once(face: FontFace, style: str, _version: tuple[int, int]) -> ParsedFace | None:
    with TTFont(str(face.path), fontNumber=face.index, lazy=True) as ttfont:
        # fpdf2 draws a .notdef into a TrueType face that has none, in that document's ttfont
        # only; such a face (never Noto CJK) is parsed for each document as before.
        if "glyf" in ttfont and ".notdef" not in ttfont["glyf"]:
            return None
    scratch = FPDF()
    scratch.add_font(FAMILY, style, fname=str(face.path), collection_font_number=face.index)
    font = scratch.fonts[f"{FAMILY}{style}"]
    assert isinstance(font, TTFFont)
    tables = {tag: font.ttfont[tag] for tag in DECOMPILED_TABLES if tag in font.ttfont}
    if "cmap" in tables:
        for subtable in tables["cmap"].tables:  # fontTools decompiles a subtable when first read
            subtable.ensureDecompiled()
            subtable.ttFont = None  # read only to decompile: the scratch font is let go
    font.close()  # every document opens its own
    del font.ttfont  # and the tables it decompiled (the CFF charset, the glyph order) are let go
    if font.color_font is not None:  # a Type 3 font object holds its document
        return None
    return ParsedFace(font, tables)


def _parsed_face(face: FontFace, style: str) -> ParsedFace | None:
    """The face parsed once per process (None: parse it per document). A font file replaced while
    the server runs (a package upgrade) is parsed again: each document reads its glyphs from the
    file. The service renders in a thread pool: one thread parses, the others wait for it."""
    if frozenset(TTFFont.__slots__) != SHARED_SLOTS | OWN_SLOTS:
        return None
    stat = face.path.stat()
    with _parse_lock:
        return _parsed_face_once(face, style, (stat.st_mtime_ns, stat.st_size))


def _add_parsed_font(pdf: FPDF, parsed: ParsedFace) -> None:
    """What ``FPDF.add_font`` does, with the parsing already done."""
    shared = parsed.font
    font = TTFFont.__new__(TTFFont)
    for slot in SHARED_SLOTS:
        if hasattr(shared, slot):  # fpdf2 never sets unicode_range
            setattr(font, slot, getattr(shared, slot))
    font.i = len(pdf.fonts) + 1
    font.ttfont = TTFont(
        str(shared.ttffile),
        recalcTimestamp=False,
        fontNumber=shared.collection_font_number,
        lazy=True,
    )
    for tag, table in parsed.tables.items():
        own = copy.copy(table)
        if tag == "cmap":
            own.tables = [copy.copy(subtable) for subtable in table.tables]
        font.ttfont[tag] = own
    font.desc = copy.copy(shared.desc)
    font.cw = copy.copy(shared.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font
    if font.is_cff and font.is_cid_keyed:
        pdf._set_min_pdf_version("1.6")
