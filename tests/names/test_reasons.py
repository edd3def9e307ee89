"""Why a name stands where it does (app/names/reasons.py): the first comparison of
STROKE_ORDER.md that separates two neighbours, said in Chinese, for every step of the ordering."""

import pytest

from app.names import NameOrder, UnknownCharacterError, sort_names
from app.names.reasons import describe_name_zh, explain_places_zh, order_reason_zh


@pytest.mark.parametrize(
    ("earlier", "later", "order", "reason"),
    [
        ("王宁", "刘洋", "single_given_name_first", "首字“王”4 画，少于“刘”的 6 画，笔画少的在前"),
        (
            "李娜",
            "张伟",
            "single_given_name_first",
            "首字“李”与“张”都是 7 画；第一笔“李”是横，“张”是折，按横、竖、撇、点、折的顺序“李”在前",
        ),
        (
            "叶明",
            "申明",
            "single_given_name_first",
            "首字“叶”与“申”笔画数和笔顺都相同（竖折横横竖），按字形结构左右、上下、整体的顺序，"
            "“叶”是左右结构、“申”是整体结构，“叶”在前",
        ),
        (
            "王刚",
            "王小洪",
            "single_given_name_first",
            "同姓“王”，“王刚”是单名，单名排在名有两个字的姓名之前",
        ),
        (
            "王长河",
            "王刚",
            "character_by_character",
            "第二个字“长”4 画，少于“刚”的 6 画，笔画少的在前",
        ),
        (
            "王宁",
            "王刚",
            "single_given_name_first",
            "第二个字“宁”5 画，少于“刚”的 6 画，笔画少的在前",
        ),
        (
            "王芳",
            "井芳",
            "single_given_name_first",
            "首字“王”与“井”都是 4 画；第三笔“王”是竖，“井”是撇，按横、竖、撇、点、折的顺序“王”在前",
        ),
        # 沈 has no stroke sequence in the data: its level alone (GF 3003) places it.
        (
            "沈明",
            "宋明",
            "single_given_name_first",
            "首字“沈”与“宋”都是 7 画，按《通用规范汉字表》的笔顺“沈”在前",
        ),
        (
            "李耀",
            "李䶮",
            "character_by_character",
            "第二个字“耀”与“䶮”都是 20 画；“䶮”不在笔顺数据中，排在同笔画的字之后",
        ),
        (
            "干明",
            "于明",
            "single_given_name_first",
            "首字“干”与“于”笔画数和笔顺都相同（横横竖），按《通用规范汉字表》的字序“干”在前",
        ),
        ("王", "王宁", "single_given_name_first", "“王”与“王宁”前面的字相同，字数少的在前"),
        (
            "劉明",
            "刘明",
            "single_given_name_first",
            "“劉明”与“刘明”的排序依据完全相同（同名），按添加的先后排列",
        ),
    ],
)
def test_the_first_difference_is_named(
    earlier: str, later: str, order: NameOrder, reason: str
) -> None:
    # Namesakes (equal keys) keep the order they were given in.
    given = [earlier, later] if "同名" in reason else [later, earlier]
    assert sort_names(given, order).names == (earlier, later)
    assert order_reason_zh(earlier, later, order) == reason


def test_names_out_of_order_are_the_callers_mistake() -> None:
    with pytest.raises(ValueError, match="does not sort before"):
        order_reason_zh("刘洋", "王宁")
    with pytest.raises(ValueError, match="does not sort before"):
        order_reason_zh("王小洪", "王刚")
    with pytest.raises(ValueError, match="does not sort before"):
        order_reason_zh("王宁", "王", "character_by_character")


def test_a_character_without_any_stroke_count_is_named() -> None:
    with pytest.raises(UnknownCharacterError) as raised:
        describe_name_zh("王a")
    assert raised.value.char == "a"


def test_each_name_is_described_by_its_strokes() -> None:
    assert (
        describe_name_zh("王宁")
        == "“王”4 画（横横竖横）；“宁”5 画（点点折横竖）；单名（名只有一个字）"
    )
    assert (
        describe_name_zh("王宁", "character_by_character")
        == "“王”4 画（横横竖横）；“宁”5 画（点点折横竖）"
    )
    assert "按“刘”计" in describe_name_zh("劉明")
    assert "“䶮”不在笔顺数据中，按 Unicode 总笔画数" in describe_name_zh("李䶮")


def test_every_place_of_a_sorted_list_is_explained() -> None:
    names = list(sort_names(["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"]).names)
    explained = explain_places_zh(names)
    assert explained[0].endswith("排在第一位：笔画排序最靠前。")
    for before, name, text in zip(names[:-1], names[1:], explained[1:], strict=True):
        assert text.startswith(describe_name_zh(name))
        assert f"排在“{before}”之后：{order_reason_zh(before, name)}。" in text
