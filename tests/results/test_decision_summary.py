"""The decision in the result report's words (``DecisionRead.summary``): what the scrutineers'
page shows beside the engine's trace comes from the report's own texts (C4), on both databases."""

from typing import Any

import pytest

from app.results.report import election_rule, election_rule_of, outcome_text, outcome_text_of
from app.rules.roundfile import count_round_input, parse_round, round_result_json
from app.settings import Settings
from tests.builders import FILLED, TIED, WANG, Api, enter_batch, expect, hall
from tests.results.helpers import paper, round_file


def test_decision_carries_the_reports_words(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED)
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    assert decided["summary"] == {
        "outcome_zh": "王宁、刘洋、李娜 当选，名额已满",
        "outcome_en": "elected: 王宁, 刘洋, 李娜; seats filled",
        "follow_up_zh": None,
        "follow_up_en": None,
        "rule_zh": "得赞成票超过半数者当选（M2），以实到人数 8 为基数",
        "rule_en": "elected with more than half of the base (M2): present 8",
        "threshold": 5,
        "threshold_label_zh": "当选最低票数（过半数）",
    }
    # The same words when read back (the page after a reload), for a scrutineer too.
    read = expect(h.scrutineer.get(f"/api/rounds/{h.round_id}/decision"), 200)
    assert read["summary"] == decided["summary"]


def test_undecided_round_has_no_summary(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=2)
    read = expect(h.chief.get(f"/api/rounds/{h.round_id}/decision"), 200)
    assert read["summary"] is None
    enter_batch(h, TIED)
    summary = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["summary"]
    assert summary["outcome_zh"] == f"{WANG} 当选"
    assert summary["follow_up_zh"] == "须票数相等者重新投票：应选 1 名，候选人 刘洋、李娜"


def _counted(**changes: Any) -> Any:
    return count_round_input(parse_round(round_file(**changes)))


@pytest.mark.parametrize(
    ("changes", "outcome_zh", "follow_up_zh"),
    [
        ({"present": 151, "collected": 151, "papers": [paper()] * 151},
         "不足法定人数（至少 152 人），选举不能进行", None),
        ({"collected": 181, "papers": [paper()] * 181},
         "收回选票多于实到人数（或发出选票数），本轮选举无效",
         "须重新选举：应选 3 名，候选人 王宁、刘洋、李娜、张伟、欧阳晓东"),
        ({}, "王宁、李娜 当选", "须另行选举：应选 1 名，候选人 张伟、赵六"),
        ({"seats": 2, "papers": [paper(王宁="yes", 李娜="yes")] * 180},
         "王宁、李娜 当选，名额已满", None),
        ({"papers": [paper(王宁="yes", 李娜="yes")] * 60 + [paper(王宁="yes", 张伟="yes")] * 60
                    + [paper(李娜="yes", 张伟="yes")] * 35 + [paper()] * 25,
          "profile": {"tie_policy": "vacant"}, "seats": 2}, "王宁 当选；空缺 1 名", None),
    ],
)  # fmt: skip
def test_words_of_the_recorded_decision_are_the_reports(
    changes: dict[str, Any], outcome_zh: str, follow_up_zh: str | None
) -> None:
    result = _counted(**changes)
    recorded = round_result_json(result)
    assert outcome_text_of(recorded) == outcome_text(result)
    assert outcome_text_of(recorded)[0] == outcome_zh
    assert outcome_text_of(recorded)[2] == follow_up_zh
    threshold, rule_zh, _ = election_rule_of(recorded)
    assert (threshold, rule_zh) == election_rule(result)[:2]


def test_tie_round_has_no_threshold() -> None:
    result = _counted(round_kind="tie", seats=1, candidates=["张伟", "刘洋"],
                      papers=[paper(张伟="yes")] * 100 + [paper(刘洋="yes")] * 80)  # fmt: skip
    threshold, rule_zh, _ = election_rule_of(round_result_json(result))
    assert threshold is None
    assert rule_zh == "得赞成票多者当选（M7）"


def test_unknown_outcome_is_refused() -> None:
    recorded = round_result_json(_counted())
    recorded["round"]["outcome"] = "something_else"
    with pytest.raises(ValueError, match="unknown outcome"):
        outcome_text_of(recorded)
