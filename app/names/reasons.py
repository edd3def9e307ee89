"""Why a name stands where it does in stroke order, in plain Chinese for the secretariat.

``explain_name`` gives the sort key on one line for a developer (``jipiao sort --explain``); this
module says the same facts as a sentence a secretariat member can check against the paper: each
character's strokes (横 竖 撇 点 折) and, for two neighbouring names, the first comparison that
separates them (stroke count, stroke sequence, 字形结构, the 通用规范汉字表 order, a single given
name, a shorter name) — the steps of STROKE_ORDER.md, in its order.
"""

from __future__ import annotations

from app.names import DEFAULT_NAME_ORDER, NameOrder, UnknownCharacterError, normalize_name
from app.names._data import UNCLASSIFIED, CharStrokes, strokes_of

STROKE_ZH = {"1": "横", "2": "竖", "3": "撇", "4": "点", "5": "折"}
# 字形结构 classes (app.names._data), in their order: 左右 before 上下 before 整体.
STRUCTURE_ZH = {0: "左右结构", 1: "上下结构", 2: "整体结构", UNCLASSIFIED: "未归类的字形结构"}
_ORDINAL_ZH = "一二三四五六七八九十"


def _data(name: str, char: str) -> CharStrokes:
    data = strokes_of(char)
    if data is None:
        raise UnknownCharacterError(name, char)
    return data


def _ordinal(index: int) -> str:
    """0 → 一 (the 1st); beyond ten in digits."""
    return _ORDINAL_ZH[index] if index < len(_ORDINAL_ZH) else str(index + 1)


def _strokes(data: CharStrokes) -> str:
    return "".join(STROKE_ZH[code] for code in data.sequence)


def describe_char_zh(name: str, char: str) -> str:
    """``王 4 画（横横竖横）``; a traditional form says which simplified form it counts as, a
    character without stroke data says it is placed by its Unicode stroke count."""
    data = _data(name, char)
    if data.approximate:
        return f"“{char}”不在笔顺数据中，按 Unicode 总笔画数 {data.count} 画计，排在同笔画的字之后"
    counted = f"，按“{data.counted_as}”计" if data.counted_as else ""
    sequence = f"（{_strokes(data)}）" if data.sequence else ""
    return f"“{char}”{data.count} 画{sequence}{counted}"


def describe_name_zh(name: str, order: NameOrder = DEFAULT_NAME_ORDER) -> str:
    """Every character of the name with its strokes; a single given name is said to be one."""
    chars = normalize_name(name)
    text = "；".join(describe_char_zh(name, char) for char in chars)
    if order == "single_given_name_first" and len(chars) == 2:
        text += "；单名（名只有一个字）"
    return text


def _slots(name: str, order: NameOrder) -> list[str | None]:
    """The compared characters, ``None`` for the empty slot of a single given name."""
    chars: list[str | None] = list(normalize_name(name))
    if order == "single_given_name_first" and len(chars) == 2:
        chars.insert(1, None)
    return chars


def _key(name: str, char: str | None) -> int:
    return 0 if char is None else _data(name, char).key  # the empty slot sorts first


def _char_reason(name: str, index: int, first: str, second: str) -> str:
    """Why character ``first`` sorts before ``second`` (index: its place in the name)."""
    a, b = _data(name, first), _data(name, second)
    place = "首字" if index == 0 else f"第{_ordinal(index)}个字"
    if a.count != b.count:
        return f"{place}“{first}”{a.count} 画，少于“{second}”的 {b.count} 画，笔画少的在前"
    if a.level != b.level:
        if b.approximate:
            return (
                f"{place}“{first}”与“{second}”都是 {a.count} 画；“{second}”不在笔顺数据中，"
                "排在同笔画的字之后"
            )
        # The first stroke that differs; none when a sequence is unknown (or, in the data, the
        # same for two levels): then the level itself, from GF 3003, is the reason.
        pairs = enumerate(zip(a.sequence, b.sequence, strict=False))
        k = next((k for k, (x, y) in pairs if x != y), None)
        if k is not None:
            return (
                f"{place}“{first}”与“{second}”都是 {a.count} 画；第{_ordinal(k)}笔"
                f"“{first}”是{STROKE_ZH[a.sequence[k]]}，“{second}”是{STROKE_ZH[b.sequence[k]]}，"
                f"按横、竖、撇、点、折的顺序“{first}”在前"
            )
        return (
            f"{place}“{first}”与“{second}”都是 {a.count} 画，按《通用规范汉字表》的笔顺"
            f"“{first}”在前"
        )
    same = f"{place}“{first}”与“{second}”笔画数和笔顺都相同（{_strokes(a) or a.count}）"
    if a.structure is not None and b.structure is not None and a.structure != b.structure:
        return (
            f"{same}，按字形结构左右、上下、整体的顺序，“{first}”是{STRUCTURE_ZH[a.structure]}、"
            f"“{second}”是{STRUCTURE_ZH[b.structure]}，“{first}”在前"
        )
    return f"{same}，按《通用规范汉字表》的字序“{first}”在前"


def order_reason_zh(earlier: str, later: str, order: NameOrder = DEFAULT_NAME_ORDER) -> str:
    """Why ``earlier`` stands before ``later`` (its neighbour in stroke order), in one clause."""
    left, right = _slots(earlier, order), _slots(later, order)
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if _key(earlier, a) == _key(later, b):
            continue  # the same character, or a traditional form counted as it
        if a is None:
            return f"同姓“{left[0]}”，“{earlier}”是单名，单名排在名有两个字的姓名之前"
        if b is None or _key(earlier, a) > _key(later, b):
            break
        position = index - (1 if None in left[:index] else 0)
        return _char_reason(earlier, position, a, b)
    else:
        if len(left) < len(right):
            return f"“{earlier}”与“{later}”前面的字相同，字数少的在前"
        if len(left) == len(right):
            return f"“{earlier}”与“{later}”的排序依据完全相同（同名），按添加的先后排列"
    raise ValueError(f"{earlier!r} does not sort before {later!r} under {order}")


def explain_places_zh(names: list[str], order: NameOrder = DEFAULT_NAME_ORDER) -> list[str]:
    """For names already in stroke order: why each stands where it does (its strokes, then what
    puts it after the name before it)."""
    explained = []
    for position, name in enumerate(names):
        strokes = describe_name_zh(name, order)
        if position == 0:
            explained.append(f"{strokes}。排在第一位：笔画排序最靠前。")
        else:
            before = names[position - 1]
            explained.append(
                f"{strokes}。排在“{before}”之后：{order_reason_zh(before, name, order)}。"
            )
    return explained


__all__ = [
    "describe_char_zh",
    "describe_name_zh",
    "explain_places_zh",
    "order_reason_zh",
]
