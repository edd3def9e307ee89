"""Builds app/names/data/structure.tsv: the 字形结构 class of characters that share a level.

Not imported by the app; run by hand when strokes.tsv.gz or a source changes:

    node dump_struct.js > cnchar_struct.tsv      # DUMP_JS below, beside cnchar + cnchar-radical
    python app/names/data/build_structure.py --cnchar-struct cnchar_struct.tsv

Characters with the same stroke count and the same stroke sequence (叶/申 25112, 巴/孔 5215,
衣/次 413534) are ordered, in published surname-stroke lists, by their 字形结构: 左右形字 first,
then 上下形字, then 整体字 (独体 and 包围); within a class the previous tie order is kept (see
README.md). Only characters of such levels are listed. Source: npm ``cnchar-radical`` 3.2.6
(MIT, github.com/theajack/cnchar), ``cnchar.radical(ch)[0].struct``; the few characters of
《通用规范汉字表》 in such levels that cnchar does not classify are classified by hand (HAND).

Row format: ``char<TAB>class`` with class 0 = 左右 (incl. 左中右), 1 = 上下 (incl. 上中下, 品字),
2 = 整体 (独体, 全包围, 半包围).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent

DUMP_JS = r"""
// node dump_struct.js > cnchar_struct.tsv  (cnchar and cnchar-radical 3.2.6 unpacked beside it)
const cnchar = require('./cnchar/cnchar.min.js');
cnchar.use(require('./cnchar-radical/cnchar.radical.min.js'));
for (let c = 0x3400; c <= 0x9fff; c++) {
  const ch = String.fromCodePoint(c);
  const r = cnchar.radical(ch);
  if (r && r[0] && r[0].struct) console.log(ch + '\t' + r[0].struct + '\t' + r[0].radical);
}
"""

CLASS = {
    "左右结构": 0,
    "左中右结构": 0,
    "上下结构": 1,
    "上中下结构": 1,
    "品字结构": 1,
    "独体结构": 2,
    "全包围结构": 2,
    "半包围结构": 2,
}

# 《通用规范汉字表》 characters in a shared level that cnchar-radical does not classify.
HAND: dict[str, int] = {
    **dict.fromkeys("仇邘圢伋冮讱扞圲圫汋玓抔坉扽坋杕旴汧汫妧坥坽昒侁佽郃沺泇玿垯垱垞挓柖咺", 0),
    **dict.fromkeys("昤哃祏垾梠涢埵埪啫揕堨塝搒墦嶓", 0),
    **dict.fromkeys("苉呇垈訄隺赑筥", 1),
    **dict.fromkeys("刀夬尨冏屃麀", 2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cnchar-struct", required=True)
    args = parser.parse_args()
    struct: dict[str, int] = {}
    for line in Path(args.cnchar_struct).read_text(encoding="utf-8").splitlines():
        char, name, _ = line.split("\t")
        struct[char] = CLASS[name]
    struct.update(HAND)
    levels: dict[str, list[str]] = defaultdict(list)
    raw = gzip.decompress((HERE / "strokes.tsv.gz").read_bytes()).decode("utf-8")
    for line in raw.splitlines():
        fields = line.split("\t")
        if fields[0] == "K":
            levels[fields[3]].append(fields[1])
    rows = sorted(
        (char, struct[char])
        for chars in levels.values()
        if len(chars) > 1
        for char in chars
        if char in struct
    )
    header = (
        "# 字形结构 class of characters sharing a (count, sequence) level; built by"
        " build_structure.py\n# char\tclass (0 左右, 1 上下, 2 整体)\n"
    )
    body = "".join(f"{char}\t{cls}\n" for char, cls in rows)
    (HERE / "structure.tsv").write_text(header + body, encoding="utf-8")
    sys.stdout.write(f"{len(rows)} rows\n")


if __name__ == "__main__":
    main()
