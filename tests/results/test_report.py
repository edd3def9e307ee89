"""The result report's content (C4) as pure data, before any PDF: the figures and their capital
numerals, every person in the order the report prints them, the outcome and follow-up round in
the words the console's pages repeat, the signature lines, the signatures made in the service,
and what a ROUND.json gives ``jipiao report``."""

import dataclasses
import datetime
from typing import Any

import pytest

from app.results.report import (
    Officials,
    PersonLine,
    ReportInput,
    ReportInputError,
    SignatureLine,
    SignedBy,
    compose_report,
    election_rule,
    election_rule_of,
    outcome_text,
    outcome_text_of,
    report_input_from_round_file,
    round_file_hash,
)
from app.rules.decide import RoundResult
from app.rules.roundfile import RoundFileError, count_round_input, parse_round, round_result_json
from tests.results.helpers import DATE, HEAD_HASH, paper, round_file

TODAY = datetime.date(2026, 6, 30)
# Each pair of the three gets 60 papers: all three have 120 yes, a majority of the 180 present,
# tied for the 2 seats.
TIED_AT_THE_TOP = {
    "seats": 2,
    "candidates": ["张伟", "李娜", "王宁"],
    "papers": [paper(王宁="yes", 李娜="yes")] * 60
    + [paper(王宁="yes", 张伟="yes")] * 60
    + [paper(李娜="yes", 张伟="yes")] * 60,
}


def _counted(**changes: Any) -> RoundResult:
    return count_round_input(parse_round(round_file(**changes)))


def _report_input(**changes: Any) -> ReportInput:
    report, _ = report_input_from_round_file(
        round_file(), head_hash=HEAD_HASH, printed=200, today=TODAY
    )
    return dataclasses.replace(report, **changes)


def test_the_figures_in_digits_and_capital_numerals() -> None:
    report = compose_report(_report_input())
    figures = [(line.key, line.label_zh, line.value, line.capital) for line in report.counts]
    assert figures == [
        ("seats", "应选名额", 3, "叁"),
        ("delegates_total", "应到人数", 189, "壹佰捌拾玖"),
        ("present", "实到人数", 180, "壹佰捌拾"),
        ("printed", "印制选票", 200, "贰佰"),
        ("issued", "发出选票", 180, "壹佰捌拾"),
        ("remaining", "剩余选票（当众销毁）", 20, "贰拾"),
        ("collected", "收回选票", 180, "壹佰捌拾"),
        ("valid", "有效票", 170, "壹佰柒拾"),
        ("invalid", "无效票", 10, "壹拾"),
    ]
    invalid = [
        (line.key, line.label_zh, line.value, line.capital) for line in report.invalid_by_rule
    ]
    assert invalid == [
        ("P2", "另选他人数多于不赞成票数", 3, "叁"),
        ("P3", "所选人数多于应选人数", 2, "贰"),
        ("P4", "有可识别身份的记号", 5, "伍"),
    ]
    assert report.threshold is not None
    assert (report.threshold.value, report.threshold.capital) == (91, "玖拾壹")
    assert report.rule_zh == "得赞成票超过半数者当选（M2），以实到人数 180 为基数"
    assert report.rule_en == "elected with more than half of the base (M2): present 180"


def test_every_person_by_yes_votes_ties_in_stroke_order() -> None:
    report = compose_report(_report_input())
    # 王宁 and 李娜 tie at 130 (王 4 strokes before 李 7), 孙八 and 钱七 at 39, 刘洋 and 欧阳晓东
    # at 0; a majority is more than 90 of the 180 present, which 赵六's 90 is not.
    assert report.persons == (
        PersonLine(1, "王宁", False, 130, 40, 0, majority=True, elected=True),
        PersonLine(2, "李娜", False, 130, 39, 1, majority=True, elected=True),
        PersonLine(3, "赵六", True, 90, 0, 0, majority=False, elected=False),
        PersonLine(4, "张伟", False, 80, 90, 0, majority=False, elected=False),
        PersonLine(5, "孙八", True, 39, 0, 0, majority=False, elected=False),
        PersonLine(6, "钱七", True, 39, 0, 0, majority=False, elected=False),
        PersonLine(7, "刘洋", False, 0, 80, 90, majority=False, elected=False),
        PersonLine(8, "欧阳晓东", False, 0, 0, 170, majority=False, elected=False),
    )
    assert report.elected == ("王宁", "李娜")
    assert report.outcome_zh == "王宁、李娜 当选"
    assert report.follow_up_zh == "须另行选举：应选 1 名，候选人 张伟、赵六"
    assert report.follow_up_en == "supplementary round for 1 seat(s): 张伟, 赵六"


def test_a_void_round_marks_no_majority() -> None:
    report = compose_report(_report_input(result=_counted(collected=181), printed=180))
    assert report.elected == ()
    assert not any(person.majority or person.elected for person in report.persons)
    assert report.persons[0].yes == 130  # the papers are still counted and shown
    assert report.outcome_en == "more papers collected than present (or issued): the round is void"


@pytest.mark.parametrize(
    ("changes", "outcome", "follow_up"),
    [
        ({"present": 151, "collected": 151, "papers": [paper()] * 151},
         ("不足法定人数（至少 152 人），选举不能进行",
          "quorum not met (needs 152): no election held"),
         (None, None)),
        ({"collected": 181, "papers": [paper()] * 181},
         ("收回选票多于实到人数（或发出选票数），本轮选举无效",
          "more papers collected than present (or issued): the round is void"),
         ("须重新选举：应选 3 名，候选人 王宁、刘洋、李娜、张伟、欧阳晓东",
          "rerun for 3 seat(s): 王宁, 刘洋, 李娜, 张伟, 欧阳晓东")),
        ({},
         ("王宁、李娜 当选", "elected: 王宁, 李娜"),
         ("须另行选举：应选 1 名，候选人 张伟、赵六",
          "supplementary round for 1 seat(s): 张伟, 赵六")),
        ({"seats": 2, "papers": [paper(王宁="yes", 李娜="yes")] * 180},
         ("王宁、李娜 当选，名额已满", "elected: 王宁, 李娜; seats filled"),
         (None, None)),
        ({"papers": [paper(王宁="yes", 李娜="yes")] * 60 + [paper(王宁="yes", 张伟="yes")] * 60
                    + [paper(李娜="yes", 张伟="yes")] * 35 + [paper()] * 25,
          "profile": {"tie_policy": "vacant"}, "seats": 2},
         ("王宁 当选；空缺 1 名", "elected: 王宁; 1 vacant"),
         (None, None)),
        (TIED_AT_THE_TOP,
         ("本轮无人当选", "nobody elected in this round"),
         ("须票数相等者重新投票：应选 2 名，候选人 王宁、李娜、张伟",
          "tie round for 2 seat(s): 王宁, 李娜, 张伟")),
        ({**TIED_AT_THE_TOP, "profile": {"tie_policy": "vacant"}},
         ("空缺 2 名", "2 vacant"),
         (None, None)),
    ],
    ids=["quorum", "void", "supplementary", "filled", "vacant", "tie", "tie-vacant"],
)  # fmt: skip
def test_words_of_the_recorded_decision_are_the_reports(
    changes: dict[str, Any], outcome: tuple[str, str], follow_up: tuple[str | None, str | None]
) -> None:
    result = _counted(**changes)
    recorded = round_result_json(result)
    assert outcome_text_of(recorded) == outcome_text(result) == (*outcome, *follow_up)
    assert election_rule_of(recorded) == election_rule(result)


def test_tie_round_has_no_threshold() -> None:
    result = _counted(round_kind="tie", seats=1, candidates=["张伟", "刘洋"],
                      papers=[paper(张伟="yes")] * 100 + [paper(刘洋="yes")] * 80)  # fmt: skip
    assert election_rule_of(round_result_json(result)) == (
        None,
        "得赞成票多者当选（M7）",
        "most yes votes elected (M7)",
    )
    report = compose_report(_report_input(result=result, round_kind="tie", round_number=2))
    assert report.threshold is None
    assert report.elected == ("张伟",)
    assert [p.majority for p in report.persons] == [True, False]  # 100 of 180 is more than half


def test_the_majority_base_is_named_in_chinese() -> None:
    result = _counted(profile={"majority_base": "valid_papers"})
    threshold, rule_zh, rule_en = election_rule(result)
    assert threshold is not None
    assert threshold.value == 86  # more than half of the 170 valid papers
    assert rule_zh == "得赞成票超过半数者当选（M2），以有效票数 170 为基数"
    assert rule_en == "elected with more than half of the base (M2): valid_papers 170"


def test_unknown_outcome_is_refused() -> None:
    recorded = round_result_json(_counted())
    recorded["round"]["outcome"] = "something_else"
    with pytest.raises(ValueError, match="unknown outcome 'something_else'"):
        outcome_text_of(recorded)


def test_report_content_checks() -> None:
    with pytest.raises(ReportInputError, match="printed: 179 papers printed but 180 issued"):
        compose_report(_report_input(printed=179))
    with pytest.raises(ReportInputError, match="round: must be at least 1, got 0"):
        compose_report(_report_input(round_number=0))


def test_signature_lines_print_every_name_and_leave_blanks() -> None:
    officials = Officials(
        chief_scrutineer="周明", scrutineers=("甲", "乙", "丙"), chief_teller=None, tellers=("丁",)
    )
    counts = [("chief_scrutineer", 1), ("scrutineer", 2), ("chief_teller", 1), ("teller", 3)]
    report = compose_report(_report_input(officials=officials), counts)
    assert report.signatures == (
        SignatureLine("chief_scrutineer", "周明"),
        SignatureLine("scrutineer", "甲"),
        SignatureLine("scrutineer", "乙"),
        SignatureLine("scrutineer", "丙"),  # more names than lines: nobody is dropped
        SignatureLine("chief_teller", None),
        SignatureLine("teller", "丁"),
        SignatureLine("teller", None),
        SignatureLine("teller", None),
    )
    assert compose_report(_report_input(officials=officials)).signatures == ()
    with pytest.raises(ValueError, match="unknown signature role 'auditor'"):
        compose_report(_report_input(), [("auditor", 1)])


def test_a_signature_made_in_the_service_says_how_its_code_was_issued() -> None:
    before = SignedBy("teller", None, "2026-05-01T15:30Z", session_id=None)
    assert before.line_zh("计票人") == "计票人：2026-05-01T15:30Z 签字（未记录会话）"
    assert before.line_en() == "teller : signed 2026-05-01T15:30Z (no session recorded)"
    admin = SignedBy("chief_scrutineer", "周明", "2026-05-01T15:31Z", 12,
                     code_issued_at="2026-05-01T08:00Z", code_issued_by="admin")  # fmt: skip
    assert admin.line_zh("总监票人") == (
        "总监票人 周明：2026-05-01T15:31Z 签字（会话 12）；"
        "登录码 2026-05-01T08:00Z 由大会秘书处签发，无需确认"
    )
    assert admin.line_en() == (
        "chief_scrutineer 周明: signed 2026-05-01T15:31Z (session 12); "
        "code issued 2026-05-01T08:00Z by admin"
    )
    confirmed = dataclasses.replace(admin, code_issued_by="presidium", confirmed_by="吴芳")
    assert confirmed.line_zh("总监票人").endswith(
        "登录码 2026-05-01T08:00Z 由presidium签发，主席团成员 吴芳 确认"
    )
    assert confirmed.line_en().endswith("by presidium, confirmed by 吴芳")
    report = compose_report(_report_input(signed=(before, admin), history=(("甲", "a"),)))
    assert report.signed == (before, admin)
    assert report.history == (("甲", "a"),)


def test_a_round_file_gives_the_reports_figures() -> None:
    data = round_file()
    report, round_input = report_input_from_round_file(data, today=TODAY)
    assert report.congress == "南京航空航天大学金城学院信息工程学院第五次学生代表大会"
    assert report.election_title == "信息工程学院第五届学生会主席团成员选举"
    assert (report.round_number, report.round_kind, report.date) == (1, "regular", DATE)
    assert report.printed == 180  # the papers issued
    assert report.result == count_round_input(round_input)
    # No event log: the round file's own SHA-256, and the report says which.
    assert report.hash_source == "round_file"
    assert report.head_hash == round_file_hash(data) != round_file_hash(round_file(round=2))
    assert len(report.head_hash) == 64
    signed, _ = report_input_from_round_file(
        data, head_hash=HEAD_HASH, printed=200, public_key_fingerprint="ed25519:3f9a",
        officials=Officials(chief_scrutineer="周明"), today=TODAY,
    )  # fmt: skip
    assert (signed.head_hash, signed.hash_source, signed.printed) == (HEAD_HASH, "event_log", 200)
    assert signed.public_key_fingerprint == "ed25519:3f9a"
    assert signed.officials.chief_scrutineer == "周明"


@pytest.mark.parametrize(
    ("changes", "title", "congress", "round_number", "date"),
    [
        ({"title": " 主席团选举 ", "congress": " 学代会\n"}, "主席团选举", "学代会", 1, DATE),
        ({"title": "", "election": "学生会主席选举"}, "学生会主席选举", None, 1, DATE),
        ({"title": ""}, "选举", None, 1, DATE),  # "election" is the numeric id 7
        ({"round": 3, "date": None}, None, None, 3, TODAY),
    ],
    ids=["trimmed", "election-name", "default-title", "round-and-today"],
)  # fmt: skip
def test_descriptive_keys_and_their_defaults(
    changes: dict[str, Any],
    title: str | None,
    congress: str | None,
    round_number: int,
    date: datetime.date,
) -> None:
    data = round_file(**changes)
    if changes.get("date", "") is None:
        del data["date"]  # no date: the day the report is made
    report, _ = report_input_from_round_file(data, today=TODAY)
    if title is not None:
        assert report.election_title == title
    if congress is not None:
        assert report.congress == congress
    assert (report.round_number, report.date) == (round_number, date)


@pytest.mark.parametrize(
    ("changes", "printed", "message"),
    [
        ({"title": 5}, None, "title: must be a string"),
        ({"title": "", "election": True}, None, "election: must be a string"),
        ({"congress": ["大会"]}, None, "congress: must be a string"),
        ({"round": 0}, None, "round: must be a positive integer, got 0"),
        ({"round": True}, None, "round: must be a positive integer, got True"),
        ({"round": "2"}, None, "round: must be a positive integer, got '2'"),
        ({"date": "2026-13-01"}, None, "date: must be YYYY-MM-DD, got '2026-13-01'"),
        ({"date": 20260501}, None, "date: must be YYYY-MM-DD, got 20260501"),
        ({"date": "20260501"}, None, "date: must be YYYY-MM-DD, got '20260501'"),
        (
            {"date": "２０２６-０５-０１"},
            None,
            "date: must be YYYY-MM-DD, got '２０２６-０５-０１'",
        ),
        ({}, 179, "printed: 179 papers printed but 180 issued"),
    ],
)
def test_a_round_file_that_cannot_make_a_report_names_the_field(
    changes: dict[str, Any], printed: int | None, message: str
) -> None:
    with pytest.raises(RoundFileError) as refused:
        report_input_from_round_file(round_file(**changes), printed=printed, today=TODAY)
    assert str(refused.value) == message
