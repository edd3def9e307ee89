"""The rules' words are defined once (app/rules/words.py) and every reader gets the same text."""

from typing import get_args

from app.rules import tally_papers
from app.rules.model import EnteredMark, Mark
from app.rules.words import INVALID_REASON, MARK_GLYPH, MARK_WORD, MARK_ZH
from tests.rules.helpers import A, B, C, D, make_definition, make_paper


def test_every_mark_entered_or_final_has_a_word_a_glyph_and_how_it_counts() -> None:
    marks = set(get_args(Mark)) | set(get_args(EnteredMark))
    assert set(MARK_WORD) == set(MARK_GLYPH) == set(MARK_ZH) == marks
    assert MARK_ZH["yes"] == "赞成"
    assert MARK_ZH["blank"] == "未划（按弃权计）"  # P5
    assert MARK_ZH["unclear"] == "无法辨认（待裁定）"  # P6: the scrutineers rule it
    assert MARK_ZH["illegible"] == "无效（按弃权计）"  # P6
    assert MARK_GLYPH["blank"] == ""  # an empty box


def test_the_trace_gives_each_invalid_paper_the_reason_the_report_prints() -> None:
    # Under a profile where an empty paper (P5) and an illegible mark (P6) void the paper, one
    # paper breaks each rule a paper can be invalid under.
    definition = make_definition(empty_paper_valid=False, unclear_voids_paper=True)
    papers = [
        make_paper(definition, yes=[A], void="P1"),
        make_paper(definition, yes=[A], write_ins=["孙一"]),  # P2
        make_paper(definition, yes=[A, B, C, D]),  # P3: four chosen for three seats
        make_paper(definition, yes=[A], void="P4"),
        make_paper(definition),  # P5
        make_paper(definition, yes=[A], illegible=[B]),  # P6
        make_paper(definition, void="P9"),
    ]
    tally = tally_papers(definition, papers)
    assert set(tally.papers.invalid_by_rule) == set(INVALID_REASON)
    said = {e.rule: e.message_zh for e in tally.trace if e.message_zh.startswith("无效票 1 张")}
    for rule, (reason_zh, _reason_en) in INVALID_REASON.items():
        assert said[rule].startswith(f"无效票 1 张：{reason_zh}"), rule
    assert said["P5"] == "无效票 1 张：空白选票（本规则设定为无效）"
