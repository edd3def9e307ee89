"""Round files and decided rounds for the result report and export tests."""

import datetime
from typing import Any

from app.results.exports import ElectionRecord, RoundRecord
from app.rules.roundfile import RoundInput, count_round_input, parse_round

CANDIDATES = ["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"]
HEAD_HASH = "9f2c6a0d4b7e18c35a90f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566"
DATE = datetime.date(2026, 5, 1)
NOW = datetime.datetime(2026, 5, 1, 15, 30, tzinfo=datetime.UTC)


def paper(write_ins: tuple[str | None, ...] = (), void: str | None = None, **marks: str) -> Any:
    return {"marks": marks, "write_ins": list(write_ins), "void": void}


def example_papers() -> list[Any]:
    """180 papers: 王宁 and 李娜 elected, 张伟 short, write-ins, invalid papers (P2, P3, P4)."""
    papers: list[Any] = []
    papers += [paper(王宁="yes", 张伟="yes", 李娜="yes", 刘洋="no", 欧阳晓东="abstain")] * 80
    papers += [paper(("赵六",), 王宁="yes", 张伟="no", 李娜="yes")] * 50
    papers += [paper(("赵六", "钱七", "孙八"), 王宁="no", 张伟="no", 李娜="no")] * 39
    papers += [paper(("赵六", None, "王宁"), 王宁="no", 张伟="no", 李娜="illegible")]
    papers += [paper(("赵六", "钱七", "孙八"), 王宁="no", 张伟="no")] * 3  # P2
    papers += [paper(王宁="yes", 张伟="yes", 李娜="yes", 刘洋="yes")] * 2  # P3
    papers += [paper(void="P4")] * 5
    return papers


def round_file(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "信息工程学院第五届学生会主席团成员选举",
        "congress": "南京航空航天大学金城学院信息工程学院第五次学生代表大会",
        "election": 7,
        "round": 1,
        "date": "2026-05-01",
        "seats": 3,
        "candidates": CANDIDATES,
        "delegates_total": 189,
        "present": 180,
        "collected": 180,
        "papers": example_papers(),
    }
    data.update(changes)
    return data


def counted(data: dict[str, Any]) -> tuple[RoundInput, RoundRecord]:
    round_input = parse_round(data)
    result = count_round_input(round_input)
    record = RoundRecord(data.get("round", 1), round_input.definition.kind, result,
                         round_input.papers)  # fmt: skip
    return round_input, record


def two_round_election() -> ElectionRecord:
    """Round 1: A and B elected, C and D tied at the last seat; round 2 (tie round): D wins."""
    tie_papers = (
        [paper(王宁="yes", 李娜="yes", 张伟="yes")] * 85
        + [paper(王宁="yes", 李娜="yes", 刘洋="yes")] * 85
        + [paper(王宁="yes", 张伟="yes", 刘洋="yes")] * 10
    )
    _, first = counted(round_file(candidates=["王宁", "李娜", "张伟", "刘洋"], papers=tie_papers))
    second_papers = [paper(张伟="yes")] * 70 + [paper(刘洋="yes")] * 100 + [paper()] * 8
    _, second = counted(
        round_file(
            round=2,
            round_kind="tie",
            seats=1,
            candidates=["张伟", "刘洋"],
            present=178,
            collected=178,
            papers=second_papers,
        )
    )
    return ElectionRecord("7", "主席团成员选举", "Presidium election", "学代会", DATE,
                          (first, second))  # fmt: skip
