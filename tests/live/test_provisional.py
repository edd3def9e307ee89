"""The provisional outcome (pure): the engine on the papers entered so far, unclear = abstain."""

from collections import Counter

from app.live.provisional import provisional_paper, provisional_result
from app.rules import PaperRecord, RoundDefinition

NAMES = ("王宁", "刘洋", "李娜")


def _papers(rows: list[tuple[str, ...]]) -> Counter[PaperRecord]:
    return Counter(provisional_paper(marks, (), None) for marks in rows)


def test_tie_at_the_last_seat_and_unclear_as_abstain() -> None:
    rows = [("yes", "yes", "no")] * 3 + [("yes", "no", "yes")] * 3 + [("no", "yes", "yes")] * 2
    rows += [("unclear", "blank", "blank")]
    result = provisional_result(
        RoundDefinition(2, NAMES), delegates_total=10, present=9, issued=9, papers=_papers(rows)
    )
    assert result["majority"]["threshold"] == 5
    standing = {t["name"]: (t["yes"], t["abstain"], t["standing"]) for t in result["tallies"]}
    assert standing == {"王宁": (6, 1, "elected"), "刘洋": (5, 1, "tied"), "李娜": (5, 1, "tied")}
    assert result["round"]["outcome"] == "tie_round"
    assert "trace" not in result


def test_nothing_entered_yet() -> None:
    result = provisional_result(
        RoundDefinition(2, NAMES), delegates_total=10, present=9, issued=None, papers={}
    )
    assert result["elected"] == []
    assert {t["standing"] for t in result["tallies"]} == {"short"}
