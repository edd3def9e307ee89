"""Per-character stroke keys, loaded lazily from data/strokes.tsv.gz (see data/README.md)."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from importlib import resources

# A character outside the GF 3003 table sorts after every known character of its stroke count.
APPROXIMATE_LEVEL = 1 << 31  # above every GF 3003 level; ties (code points) < 1 << 20

# 字形结构 class (structure.tsv) of a character that shares its level with others: 左右 0,
# 上下 1, 整体 2; 3 = not classified (only characters outside 《通用规范汉字表》), placed last.
UNCLASSIFIED = 3
STRUCTURE_NAMES = ("左右", "上下", "整体", "?")
_STRUCTURE_SHIFT = 18  # tie = structure << 18 | rank of the character in the level


@dataclass(frozen=True, slots=True)
class CharStrokes:
    """What the ordering knows about one character.

    ``level`` ranks (count, stroke sequence) as in GF 3003-1999; ``tie`` orders characters with the
    same count and sequence: by 字形结构 (左右, 上下, 整体; see ``structure``), then by
    《通用规范汉字表》 order. ``structure`` is that class (0–3), ``None`` when no other character
    shares the level. ``sequence`` is the 1–5 code when known ("" otherwise). ``approximate`` is
    set for a character placed by its Unihan total stroke count only. ``counted_as`` names the
    simplified form a traditional character counts as.
    """

    char: str
    count: int
    level: int
    tie: int
    sequence: str
    approximate: bool
    counted_as: str | None = None
    structure: int | None = None

    @property
    def key(self) -> int:
        """(count, level, tie) packed into one int: compares the same, sorts faster."""
        return (self.count << 52) | (self.level << 20) | self.tie


class _Table:
    def __init__(self) -> None:
        self.known: dict[str, CharStrokes] = {}
        self.variants: dict[str, str] = {}
        self.runs: list[tuple[int, str]] = []

    def load(self) -> None:
        data = resources.files("app.names").joinpath("data")
        structure: dict[str, int] = {}
        for line in data.joinpath("structure.tsv").read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                char, klass = line.split("\t")
                structure[char] = int(klass)
        rows: list[list[str]] = []
        shared: dict[str, int] = {}
        raw = data.joinpath("strokes.tsv.gz").read_bytes()
        for line in gzip.decompress(raw).decode("utf-8").splitlines():
            fields = line.split("\t")
            match fields[0]:
                case "K":
                    rows.append(fields)
                    shared[fields[3]] = shared.get(fields[3], 0) + 1
                case "V":
                    self.variants[fields[1]] = fields[2]
                case "E":
                    self.runs.append((int(fields[1], 16), fields[2]))
                case _:
                    raise ValueError(f"bad line in strokes.tsv.gz: {line!r}")
        for _, ch, count, level, tie, seq in rows:
            cls = structure.get(ch, UNCLASSIFIED) if shared[level] > 1 else None
            packed = ((cls or 0) << _STRUCTURE_SHIFT) | int(tie)
            self.known[ch] = CharStrokes(ch, int(count), int(level), packed, seq, False, None, cls)

    def unihan_count(self, char: str) -> int | None:
        cp = ord(char)
        for start, run in self.runs:
            if start <= cp < start + len(run):
                count = ord(run[cp - start]) - 48
                return count or None
        return None


_table: _Table | None = None
_lock = threading.Lock()
_cache: dict[str, CharStrokes | None] = {}


def _loaded() -> _Table:
    global _table
    with _lock:  # taken only on a cache miss of strokes_of: cheap, and no double-checked dance
        if _table is None:
            table = _Table()
            table.load()
            _table = table
        return _table


def strokes_of(char: str) -> CharStrokes | None:
    """Stroke data of one character, or None when not even a stroke count is known."""
    try:
        return _cache[char]
    except KeyError:
        pass
    table = _loaded()
    found = table.known.get(char)
    if found is None:
        simplified = table.variants.get(char)
        if simplified is not None:
            base = table.known[simplified]
            found = CharStrokes(
                char,
                base.count,
                base.level,
                base.tie,
                base.sequence,
                False,
                simplified,
                base.structure,
            )
        else:
            count = table.unihan_count(char)
            if count is not None:
                found = CharStrokes(char, count, APPROXIMATE_LEVEL, ord(char), "", True)
    _cache[char] = found
    return found
