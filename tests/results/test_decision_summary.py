"""The decision in the result report's words (``DecisionRead.summary``): what the scrutineers'
page shows beside the engine's trace comes from the report's own texts (C4), on both databases.
The texts themselves, for every outcome, are tested without a database in test_report.py."""

from app.settings import Settings
from tests.builders import FILLED, TIED, WANG, Api, enter_batch, expect, hall


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
