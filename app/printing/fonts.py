"""Finding the Chinese font embedded in printed papers (Noto Sans CJK SC, Debian fonts-noto-cjk).

The font is embedded (subset) in every PDF so a paper looks the same on any printer. Override the
file with the layout's ``font`` key or the ``JIPIAO_BALLOT_FONT`` environment variable (a TTF, OTF
or TTC/OTC file; in a collection the Simplified Chinese face is chosen by name).
"""

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTLibError  # type: ignore[import-untyped]
from fpdf import FPDF

FONT_ENV = "JIPIAO_BALLOT_FONT"
DEBIAN_FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
)
REGULAR_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf")
BOLD_FILES = ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf")


class FontMissingError(RuntimeError):
    """No usable Chinese font: the message says what to install, in Chinese and English."""


@dataclass(frozen=True, slots=True)
class FontFace:
    path: Path
    index: int = 0  # the face inside a TTC/OTC collection


@functools.lru_cache(maxsize=8)
def _face(path: Path) -> FontFace:
    if not path.is_file():
        raise FontMissingError(f"找不到字体文件 {path} / font file not found: {path}")
    if path.suffix.lower() not in (".ttc", ".otc"):
        return FontFace(path)
    try:
        collection = TTCollection(str(path), lazy=True)
    except (TTLibError, OSError) as exc:
        raise FontMissingError(f"无法读取字体 {path} / cannot read font {path}: {exc}") from None
    try:
        names = [font["name"].getDebugName(4) or "" for font in collection.fonts]
    finally:
        collection.close()
    for wanted in ("CJK SC", "SC", "CN"):
        for index, name in enumerate(names):
            if wanted in name and "Mono" not in name:
                return FontFace(path, index)
    return FontFace(path, 0)


def find_cjk_fonts(override: str | None = None) -> tuple[FontFace, FontFace]:
    """The regular and bold faces to embed; the override (layout ``font`` or the environment)
    is used for both."""
    chosen = override or os.environ.get(FONT_ENV)
    if chosen:
        face = _face(Path(chosen))
        return face, face
    for folder in DEBIAN_FONT_DIRS:
        for regular_name, bold_name in zip(REGULAR_FILES, BOLD_FILES, strict=True):
            regular = folder / regular_name
            if regular.is_file():
                bold = folder / bold_name
                return _face(regular), _face(bold if bold.is_file() else regular)
    raise FontMissingError(
        "找不到中文字体 Noto Sans CJK：请安装 fonts-noto-cjk（scripts/install），"
        f"或用环境变量 {FONT_ENV} 指定字体文件 / "
        "Chinese font Noto Sans CJK not found: install fonts-noto-cjk (scripts/install) "
        f"or set {FONT_ENV} to a font file"
    )


def cjk_pdf(page_format: str | tuple[float, float], creator: str, fonts: tuple[FontFace, FontFace]
            ) -> FPDF:  # fmt: skip
    """A portrait fpdf2 document in millimetres, no margins or automatic page breaks, with the
    regular and bold CJK faces registered as ``cjk`` (embedded as subsets when used)."""
    pdf = FPDF(orientation="portrait", unit="mm", format=page_format)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator(creator)
    regular, bold = fonts
    pdf.add_font("cjk", "", fname=str(regular.path), collection_font_number=regular.index)
    pdf.add_font("cjk", "B", fname=str(bold.path), collection_font_number=bold.index)
    return pdf


def close_fonts(pdf: FPDF) -> None:
    """Close the font files fpdf2 keeps open (fontTools reads them lazily)."""
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()
