"""Benchmark: app.names.sort_names on 100,000 realistic names, against two PyPI sorters.

    .venv/bin/python scripts/bench/bench_sort_names.py [--count 100000] [--quadratic-count 2000]
        [--repeat 5]

Compares, on the same deterministic names, with ``cn_sort`` (Mode.BIHUA) and
``chinese_stroke_sorting`` when importable (install them into the venv for the bench only:
``.venv/bin/pip install cn-sort chinese-stroke-sorting``; never project dependencies).
``chinese_stroke_sorting`` is a bubble sort (O(n²)): it runs on the first --quadratic-count names.
Prints time per tool (the best of --repeat runs: the machine is shared, the best run is the one
least disturbed by other jobs), the ratio to ours, how many positions differ and how many names
get another rank, and a few disagreements with the per-character explanation to judge who is right.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence

from app.names import explain_name, sort_names

# Common surnames (incl. compound) and given-name characters, some rare name characters.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤申由达"
)
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "令狐")
GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏飞宁凯建国庆文辉力斌波宇浩"
    "俊帅云峰琳雪晨欣怡佳子涵梓轩浩然一诺雨萱思彤嘉懿喆堃昇淼犇鑫垚赟燚旻昊晗珺琪瑶璐婧婷"
)


def make_names(count: int, seed: int = 20240601) -> list[str]:
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        surname = rng.choice(COMPOUND) if rng.random() < 0.02 else rng.choice(SURNAMES)
        given_length = 1 if rng.random() < 0.3 else 2
        names.append(surname + "".join(rng.choice(GIVEN) for _ in range(given_length)))
    return names


def timed(
    sort: Callable[[list[str]], Sequence[str]], names: list[str], repeat: int = 1
) -> tuple[float, list[str]]:
    best = float("inf")
    result: list[str] = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = list(sort(names))
        best = min(best, time.perf_counter() - start)
    return best, result


def compare(label: str, ours: list[str], theirs: list[str], names: list[str]) -> None:
    """Differences of theirs from ours; called for both conventions of ours."""
    positions = sum(1 for a, b in zip(ours, theirs, strict=True) if a != b)
    # rank of each distinct name (first occurrence) in each ordering
    ours_rank: dict[str, int] = {}
    for i, name in enumerate(ours):
        ours_rank.setdefault(name, i)
    theirs_rank: dict[str, int] = {}
    for i, name in enumerate(theirs):
        theirs_rank.setdefault(name, i)
    ranks = sum(1 for name in set(names) if ours_rank[name] != theirs_rank[name])
    print(
        f"  {label}: {positions} of {len(names)} positions differ; "
        f"{ranks} of {len(set(names))} distinct names get another rank"
    )
    # a few adjacent pairs that the other tool orders the other way round
    shown = 0
    for a, b in itertools.pairwise(theirs):
        if a != b and ours_rank[a] > ours_rank[b]:
            print(f"    {label} puts {a} before {b}; we put {b} first:")
            for name in (b, a):
                print(f"      {name}\t{explain_name(name)}")
            shown += 1
            if shown == 3:
                break


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--quadratic-count", type=int, default=2_000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="best of N runs (not the bubble sort)"
    )
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    names = make_names(args.count)

    sort_names(names[:10])  # load the data once, outside the timing
    ours_time, ours = timed(lambda n: sort_names(n).names, names, repeat)
    print(
        f"ours (app.names.sort_names): {args.count} names in {ours_time:.3f} s (best of {repeat})"
    )
    cbc_time, ours_cbc = timed(
        lambda n: sort_names(n, "character_by_character").names, names, repeat
    )
    print(f"ours, character_by_character: {cbc_time:.3f} s")

    # cn_sort writes all.log and error.log into the working directory: keep them out of the tree.
    os.chdir(tempfile.mkdtemp(prefix="jipiao-bench-"))
    try:
        from cn_sort import Mode, sort_text_list  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("cn_sort: not installed (pip install cn-sort) — skipped")
    else:

        def run_cn_sort(n: list[str]) -> list[str]:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                return list(sort_text_list(n, mode=Mode.BIHUA))

        run_cn_sort(names[:10])
        their_time, theirs = timed(run_cn_sort, names, repeat)
        print(f"cn_sort Mode.BIHUA: {their_time:.3f} s ({their_time / ours_time:.1f}x ours)")
        compare("cn_sort vs ours single_given_name_first", ours, theirs, names)
        compare("cn_sort vs ours character_by_character", ours_cbc, theirs, names)

    try:
        from chinese_stroke_sorting import (  # type: ignore[import-not-found,unused-ignore]
            sort_by_stroke,
        )
    except ImportError:
        print(
            "chinese_stroke_sorting: not installed (pip install chinese-stroke-sorting) — skipped"
        )
    else:
        subset = names[: args.quadratic_count]
        sub_ours_time, sub_ours = timed(lambda n: sort_names(n).names, subset)
        their_time, theirs = timed(sort_by_stroke, subset)
        print(
            f"chinese_stroke_sorting (bubble sort, first {len(subset)} names): {their_time:.3f} s "
            f"vs ours {sub_ours_time:.4f} s on the same subset "
            f"({their_time / sub_ours_time:.0f}x ours)"
        )
        compare("chinese_stroke_sorting vs ours single_given_name_first", sub_ours, theirs, subset)
        sub_cbc = list(sort_names(subset, "character_by_character").names)
        compare("chinese_stroke_sorting vs ours character_by_character", sub_cbc, theirs, subset)


if __name__ == "__main__":
    main()
