"""Ballot layouts: data a secretariat adapts (``ballots/*.json``; schema in ``ballots/README.md``).

A layout names the title band's colour (B4: different elections of one session get visibly
different papers), the wording of the instructions (seed 六.6, RULES.md B2) and the paper size.
A layout may ``extend`` another file of the same folder and override some keys.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

SCHEMA = "jipiao-ballot-layout/1"
PaperSize = Literal["A4", "A5"]
PAPER_SIZES: tuple[PaperSize, ...] = get_args(PaperSize)
PAGE_MM: dict[PaperSize, tuple[float, float]] = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
MIN_QR_MM = 30.0
MAX_QR_MM = 60.0
ROUND_KIND_KEYS = ("regular", "tie", "supplementary", "rerun")
BALLOTS_DIR = Path(__file__).resolve().parents[2] / "ballots"
DEFAULT_LAYOUT = BALLOTS_DIR / "seed.json"

_STRING_KEYS = (
    "logo_text",
    "title",
    "heading",
    "band_colour_name",
    "band_mark",
    "candidates_header",
    "mark_header",
    "write_in_label",
    "write_in_header",
    "tie_round_note",
    "symbols_line",
    "seats_line",
)
_KEYS = frozenset(
    {
        "schema",
        "extends",
        "band_colour",
        "paper_size",
        "per_page",
        "font",
        "instructions",
        "round_labels",
        "qr_size_mm",
        *_STRING_KEYS,
    }
)
_HEX_COLOUR = re.compile(r"#([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})")
_INSTRUCTION_KEYS = frozenset({"text", "write_ins", "over_selection_voids"})


class LayoutError(ValueError):
    """A layout file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction line; printed only when its conditions hold for the round."""

    text: str
    write_ins: bool | None = None  # True: only on papers with 另选他人 boxes (not on a tie round)
    over_selection_voids: bool | None = None  # True: only when the profile's P3 option is on


@dataclass(frozen=True, slots=True)
class Layout:
    logo_text: str
    title: str
    heading: str
    band_colour: tuple[int, int, int]
    band_colour_name: str
    band_mark: str
    paper_size: PaperSize
    per_page: int
    font: str | None
    candidates_header: str
    mark_header: str
    write_in_label: str
    write_in_header: str
    tie_round_note: str
    symbols_line: str
    seats_line: str
    instructions: tuple[Instruction, ...]
    round_labels: dict[str, str]
    qr_size_mm: float
    source: str


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in seen:
        raise LayoutError(f"{path}: extends itself in a loop")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise LayoutError(f"{path}: cannot read the layout: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{path}: a layout must be a JSON object")
    unknown = set(data) - _KEYS
    if unknown:
        raise LayoutError(f"{path}: {sorted(unknown)[0]}: unknown key")
    if data.get("schema") != SCHEMA:
        raise LayoutError(f'{path}: schema: must be "{SCHEMA}"')
    base = data.get("extends")
    if base is None:
        return data
    if not isinstance(base, str) or "/" in base or "\\" in base:
        raise LayoutError(f"{path}: extends: must be a file name in the same folder")
    merged = _load_raw(path.parent / base, (*seen, path))
    merged.update({key: value for key, value in data.items() if key != "extends"})
    return merged


def _band_colour(where: str, colour: object) -> tuple[int, int, int]:
    match = _HEX_COLOUR.fullmatch(colour) if isinstance(colour, str) else None
    if match is None:
        raise LayoutError(f'{where}: band_colour: must be "#RRGGBB", got {colour!r}')
    red, green, blue = (int(part, 16) for part in match.groups())
    return red, green, blue


def _instructions(where: str, raw: object) -> tuple[Instruction, ...]:
    """The numbered instructions, each shown always or only on papers with write-ins / under a
    profile where over-selection voids the paper."""
    if not isinstance(raw, list) or not raw:
        raise LayoutError(f"{where}: instructions: must be a non-empty list")
    instructions: list[Instruction] = []
    for index, item in enumerate(raw):
        at = f"{where}: instructions[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise LayoutError(f'{at}: must be an object with a "text" string')
        unknown = set(item) - _INSTRUCTION_KEYS
        if unknown:
            raise LayoutError(f"{at}.{sorted(unknown)[0]}: unknown key")
        for flag in ("write_ins", "over_selection_voids"):
            if flag in item and not isinstance(item[flag], bool):
                raise LayoutError(f"{at}.{flag}: must be true or false")
        instructions.append(
            Instruction(item["text"], item.get("write_ins"), item.get("over_selection_voids"))
        )
    return tuple(instructions)


def load_layout(path: Path = DEFAULT_LAYOUT) -> Layout:
    """Read and check a layout file (and the file it extends)."""
    data = _load_raw(path)
    where = str(path)

    def text(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise LayoutError(f"{where}: {key}: must be a string")
        return value

    band_colour = _band_colour(where, data.get("band_colour"))
    paper_size = data.get("paper_size")
    if paper_size not in PAPER_SIZES:
        raise LayoutError(f"{where}: paper_size: must be one of {', '.join(PAPER_SIZES)}")
    per_page = data.get("per_page")
    if per_page not in (1, 2) or isinstance(per_page, bool):
        raise LayoutError(f"{where}: per_page: must be 1 or 2")
    font = data.get("font")
    if font is not None and not isinstance(font, str):
        raise LayoutError(f"{where}: font: must be a font file path or null")
    qr_size = data.get("qr_size_mm")
    if (
        isinstance(qr_size, bool)
        or not isinstance(qr_size, int | float)
        or not MIN_QR_MM <= qr_size <= MAX_QR_MM
    ):
        raise LayoutError(
            f"{where}: qr_size_mm: must be between {MIN_QR_MM:g} and {MAX_QR_MM:g} (mm)"
        )
    labels = data.get("round_labels")
    if not isinstance(labels, dict) or set(labels) != set(ROUND_KIND_KEYS):
        raise LayoutError(f"{where}: round_labels: must name {', '.join(ROUND_KIND_KEYS)}")
    if not all(isinstance(label, str) for label in labels.values()):
        raise LayoutError(f"{where}: round_labels: every label must be a string")
    instructions = _instructions(where, data.get("instructions"))
    return Layout(
        logo_text=text("logo_text"),
        title=text("title"),
        heading=text("heading"),
        band_colour=band_colour,
        band_colour_name=text("band_colour_name"),
        band_mark=text("band_mark"),
        paper_size=paper_size,
        per_page=per_page,
        font=font,
        candidates_header=text("candidates_header"),
        mark_header=text("mark_header"),
        write_in_label=text("write_in_label"),
        write_in_header=text("write_in_header"),
        tie_round_note=text("tie_round_note"),
        symbols_line=text("symbols_line"),
        seats_line=text("seats_line"),
        instructions=instructions,
        round_labels={key: str(labels[key]) for key in ROUND_KIND_KEYS},
        qr_size_mm=float(qr_size),
        source=where,
    )
