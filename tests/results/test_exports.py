"""Exports of an election's results: JSON, CSV, XLSX, and NIST SP 1500-100 / SP 1500-103 JSON
validated against the official schemas (``tests/results/schemas/``, sources in its README)."""

import csv
import datetime
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from openpyxl import load_workbook

from app.results import exports
from app.results.exports import ElectionRecord, elected_across_rounds
from app.rules.model import PaperRecord
from tests.results.helpers import DATE, NOW, counted, round_file, two_round_election

SCHEMAS = Path(__file__).parent / "schemas"


def validator(name: str) -> Draft4Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


ERR = validator("NIST_V2_election_results_reporting.json")
CVR = validator("NIST_V0_cast_vote_records.json")


def one_round() -> ElectionRecord:
    _, record = counted(round_file())
    return ElectionRecord("7", "主席团成员选举", "Presidium election", "学代会", DATE, (record,))


def assert_valid(checker: Draft4Validator, document: dict[str, Any]) -> None:
    errors = [f"{list(error.path)}: {error.message}" for error in checker.iter_errors(document)]
    assert not errors, errors[:5]


def walk(value: object) -> list[tuple[str, object]]:
    """Every (key, value) pair anywhere in a JSON document."""
    found: list[tuple[str, object]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((key, item))
            found += walk(item)
    elif isinstance(value, list):
        for item in value:
            found += walk(item)
    return found


# --- M9 and the plain exports --------------------------------------------------------------------


def test_elected_across_rounds_is_the_union_with_the_electing_round() -> None:
    elected = elected_across_rounds(two_round_election())
    # M9: 王宁 and 李娜 in round 1, 刘洋 in the tie round; listed in stroke order (M11).
    assert [(person.name, person.round_number) for person in elected] == [
        ("王宁", 1),
        ("刘洋", 2),
        ("李娜", 1),
    ]


def test_results_json() -> None:
    document = exports.results_json(two_round_election())
    json.dumps(document)  # serializable
    first, second = document["rounds"]
    assert first["outcome"] == "tie_round"
    assert first["next_round"] == {"kind": "tie", "seats": 1, "candidates": ["刘洋", "张伟"]}
    assert [p["name"] for p in first["persons"]][:2] == ["王宁", "李娜"]  # by yes votes
    assert second["kind"] == "tie"
    assert second["elected"] == ["刘洋"]
    assert document["elected"] == [
        {"name": "王宁", "round": 1},
        {"name": "刘洋", "round": 2},
        {"name": "李娜", "round": 1},
    ]


def test_results_json_counts_and_invalid_by_rule() -> None:
    [round_one] = exports.results_json(one_round())["rounds"]
    assert round_one["collected"] == 180
    assert round_one["valid"] == 170
    assert round_one["invalid"] == 10
    assert round_one["invalid_by_rule"] == {"P2": 3, "P3": 2, "P4": 5}
    assert round_one["threshold"] == 91
    names = [person["name"] for person in round_one["persons"]]
    assert names[:3] == ["王宁", "李娜", "赵六"]  # the written-in 赵六 has more yes than 张伟
    assert round_one["next_round"]["kind"] == "supplementary"


def test_results_csv_one_row_per_person_and_round() -> None:
    rows = list(csv.DictReader(io.StringIO(exports.results_csv(two_round_election()))))
    assert tuple(rows[0]) == exports.CSV_HEADER
    assert len(rows) == 4 + 2
    first = [row for row in rows if row["round"] == "1"]
    assert [row["name"] for row in first] == ["王宁", "李娜", "刘洋", "张伟"]  # tie: stroke order
    assert [row["elected"] for row in first] == ["1", "1", "0", "0"]
    second = [row for row in rows if row["round"] == "2"]
    assert second[0] == {
        "round": "2", "round_kind": "tie", "rank": "1", "name": "刘洋", "write_in": "0",
        "yes": "100", "no": "0", "abstain": "78", "elected": "1",
    }  # fmt: skip


def test_results_xlsx_sheets() -> None:
    book = load_workbook(io.BytesIO(exports.results_xlsx(two_round_election())))
    assert book.sheetnames == ["汇总 Summary", "得票 Votes", "当选 Elected"]
    summary = list(book["汇总 Summary"].iter_rows(min_row=4, values_only=True))
    assert [(row[0], row[6], row[9]) for row in summary] == [(1, 180, 91), (2, 178, 90)]
    elected = list(book["当选 Elected"].iter_rows(min_row=2, values_only=True))
    assert elected == [("王宁", 1), ("刘洋", 2), ("李娜", 1)]
    votes = list(book["得票 Votes"].iter_rows(min_row=2, values_only=True))
    assert len(votes) == 6


# --- NIST SP 1500-100 ----------------------------------------------------------------------------


def test_nist_err_validates_and_models_each_round_as_a_contest() -> None:
    document = exports.nist_err(two_round_election(), generated_at=NOW)
    assert_valid(ERR, document)
    [election] = document["Election"]
    assert [text["Language"] for text in election["Name"]["Text"]] == ["zh", "en"]
    contests = election["Contest"]
    assert [(c["SequenceOrder"], c["VoteVariation"]) for c in contests] == [
        (1, "majority"),
        (2, "plurality"),
    ]
    people = {
        person["@id"]: person["FullName"]["Text"][0]["Content"] for person in document["Person"]
    }
    status = {
        (candidate["@id"].split("-")[1], people[candidate["PersonId"]]): candidate.get(
            "PostElectionStatus"
        )
        for candidate in election["Candidate"]
    }
    assert status == {
        ("r1", "王宁"): "winner",
        ("r1", "李娜"): "winner",
        ("r1", "张伟"): "advanced-to-runoff",
        ("r1", "刘洋"): "advanced-to-runoff",
        ("r2", "张伟"): None,
        ("r2", "刘洋"): "winner",
    }
    # One Person per human being across rounds.
    assert sorted(people.values()) == sorted(["王宁", "李娜", "张伟", "刘洋"])


def test_nist_err_vote_counts_yes_no_abstain_and_write_ins() -> None:
    document = exports.nist_err(one_round(), generated_at=NOW)
    assert_valid(ERR, document)
    [contest] = document["Election"][0]["Contest"]
    assert contest["SummaryCounts"][0]["BallotsCast"] == 180
    assert contest["SummaryCounts"][0]["BallotsRejected"] == 10
    candidates = {c["@id"]: c for c in document["Election"][0]["Candidate"]}
    counts = {}
    for selection in contest["BallotSelection"]:
        [candidate_id] = selection["CandidateIds"]
        name = candidates[candidate_id]["BallotName"]["Text"][0]["Content"]
        counts[name] = {
            vote.get("OtherType", vote["Type"]): vote["Count"] for vote in selection["VoteCounts"]
        }
        assert selection.get("IsWriteIn", False) == (
            candidates[candidate_id].get("PreElectionStatus") == "write-in"
        )
    assert counts["王宁"] == {"total": 130, "no": 40, "abstain": 0}
    assert counts["赵六"] == {"total": 90}
    assert document["Status"] == "unofficial-complete"
    assert exports.nist_err(one_round(), generated_at=NOW, certified=True)["Status"] == "certified"


def test_nist_err_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        exports.nist_err(one_round(), generated_at=datetime.datetime(2026, 5, 1))  # noqa: DTZ001


# --- NIST SP 1500-103 ----------------------------------------------------------------------------


def decode_cvr(document: dict[str, Any], record: ElectionRecord) -> Counter[tuple[Any, ...]]:
    """Read the papers back from the CVR with the documented mapping (module doc of exports)."""
    papers: Counter[tuple[Any, ...]] = Counter()
    for cvr in document["CVR"]:
        [snapshot] = cvr["CVRSnapshot"]
        number = int(cvr["BallotStyleId"].removeprefix("round-"))
        definition = record.rounds[number - 1].result.definition
        marks = []
        write_ins: list[str | None] = []
        for contest in snapshot["CVRContest"]:
            if contest["ContestId"].endswith("write-ins"):
                write_ins = [entry.get("Text") for entry in contest.get("CVRContestSelection", [])]
                continue
            selections = contest.get("CVRContestSelection", [])
            if selections:
                marks.append(selections[0]["ContestSelectionId"].rsplit("-", 1)[1])
            elif contest.get("Status", []) and "undervoted" in contest["Status"]:
                marks.append("blank")
            else:
                marks.append("illegible")
        assert len(marks) == len(definition.candidates)
        papers[(number, tuple(marks), tuple(write_ins))] += 1
    return papers


def expected_papers(record: ElectionRecord) -> Counter[tuple[Any, ...]]:
    expected: Counter[tuple[Any, ...]] = Counter()
    for round_record in record.rounds:
        for paper in round_record.papers:
            expected[(round_record.number, paper.marks, paper.write_ins)] += 1
    return expected


def test_nist_cvr_validates_and_keeps_every_paper() -> None:
    record = one_round()
    document = exports.nist_cvr(record, generated_at=NOW)
    assert_valid(CVR, document)
    assert len(document["CVR"]) == 180
    assert decode_cvr(document, record) == expected_papers(record)


def test_nist_cvr_of_two_rounds_validates() -> None:
    record = two_round_election()
    document = exports.nist_cvr(record, generated_at=NOW)
    assert_valid(CVR, document)
    contest_ids = [contest["@id"] for contest in document["Election"][0]["Contest"]]
    assert "r2-write-ins" not in contest_ids  # M7: a tie-round paper has no 另选他人 boxes
    assert "r1-write-ins" in contest_ids
    assert decode_cvr(document, record) == expected_papers(record)


def test_nist_cvr_mapping_of_marks_and_write_ins() -> None:
    data = round_file(
        collected=2,
        papers=[
            {
                "marks": {"王宁": "yes", "张伟": "no", "李娜": "illegible", "刘洋": "abstain"},
                "write_ins": ["赵六", "王宁"],
            },
            {"marks": {"张伟": "no"}, "write_ins": ["赵六", None]},  # P2: 2 write-ins, one ×
        ],
    )
    _, round_record = counted(data)
    record = ElectionRecord("7", "t", "t", "c", DATE, (round_record,))
    document = exports.nist_cvr(record, generated_at=NOW, shuffle=False)
    assert_valid(CVR, document)
    valid, invalid = (
        {c["ContestId"]: c for c in cvr["CVRSnapshot"][0]["CVRContest"]} for cvr in document["CVR"]
    )
    ballot = round_record.result.definition.candidates
    c = {name: f"r1-c{i + 1}" for i, name in enumerate(ballot)}
    assert valid[c["王宁"]]["CVRContestSelection"] == [
        {
            "@type": "CVR.CVRContestSelection",
            "ContestSelectionId": f"{c['王宁']}-yes",
            "SelectionIndication": [
                {"@type": "CVR.SelectionIndication", "IsAllocable": "yes", "NumberVotes": 1}
            ],
        }
    ]
    assert valid[c["张伟"]]["CVRContestSelection"][0]["ContestSelectionId"] == f"{c['张伟']}-no"
    assert valid[c["刘洋"]]["CVRContestSelection"][0]["ContestSelectionId"] == (
        f"{c['刘洋']}-abstain"
    )
    assert valid[c["李娜"]]["Status"] == ["other"]
    assert valid[c["李娜"]]["OtherStatus"] == "illegible"
    assert valid[c["欧阳晓东"]]["Status"] == ["undervoted"]
    zhao, wang = valid["r1-write-ins"]["CVRContestSelection"]
    assert zhao["ContestSelectionId"] == "r1-w1"
    assert zhao["Text"] == "赵六"
    assert wang["Status"] == ["invalidated-rules"]
    assert wang["OtherStatus"] == "P7"
    # The invalid paper keeps its marks; every contest says why it does not count (P2, P8).
    assert invalid[c["张伟"]]["Status"] == ["invalidated-rules"]
    assert invalid[c["张伟"]]["OtherStatus"] == "P2"
    indication = invalid[c["张伟"]]["CVRContestSelection"][0]["SelectionIndication"][0]
    assert indication["IsAllocable"] == "no"
    assert invalid["r1-write-ins"]["OtherStatus"] == "P2"
    assert invalid["r1-write-ins"]["CVRContestSelection"][1] == {
        "@type": "CVR.CVRWriteIn",
        "OtherStatus": "illegible",
    }


def test_nist_cvr_is_shuffled_and_carries_no_paper_identifier() -> None:
    papers = [
        {"marks": {"王宁": mark_a, "李娜": mark_b, "张伟": mark_c}}
        for mark_a in ("yes", "no", "abstain", "blank")
        for mark_b in ("yes", "no", "abstain", "blank")
        for mark_c in ("no", "abstain", "blank")
    ]  # 48 distinct papers
    _, round_record = counted(round_file(collected=len(papers), papers=papers))
    record = ElectionRecord("7", "t", "t", "c", DATE, (round_record,))
    orders = set()
    for _ in range(3):
        document = exports.nist_cvr(record, generated_at=NOW)
        orders.add(json.dumps(document["CVR"], ensure_ascii=False))
        assert decode_cvr(document, record) == expected_papers(record)
    assert len(orders) == 3  # 48! orders: equal twice only by a broken shuffle
    keys = {key for key, _ in walk(document)}
    for forbidden in ("UniqueId", "BallotAuditId", "SequenceNumber", "BatchId", "BallotNumber"):
        assert forbidden not in keys
    # The ids of the document are per round and candidate, never per paper.
    ids = [value for key, value in walk(document) if key == "@id"]
    assert len(ids) == len(set(ids))
    unshuffled = exports.nist_cvr(record, generated_at=NOW, shuffle=False)
    first = unshuffled["CVR"][0]["CVRSnapshot"][0]["CVRContest"]
    assert first[0]["CVRContestSelection"][0]["ContestSelectionId"].endswith("-yes")


def test_cvr_ids_do_not_depend_on_paper_order() -> None:
    record = one_round()
    reversed_record = ElectionRecord(
        record.election_id, record.title, record.title_en, record.congress, record.date,
        (exports.RoundRecord(1, "regular", record.rounds[0].result,
                             tuple(reversed(record.rounds[0].papers))),),
    )  # fmt: skip
    a = exports.nist_cvr(record, generated_at=NOW, shuffle=False)
    b = exports.nist_cvr(reversed_record, generated_at=NOW, shuffle=False)
    assert a["Election"] == b["Election"]
    assert Counter(json.dumps(c) for c in a["CVR"]) == Counter(json.dumps(c) for c in b["CVR"])


def test_paper_records_are_unchanged_by_export() -> None:
    record = one_round()
    before = list(record.rounds[0].papers)
    exports.nist_cvr(record, generated_at=NOW)
    assert list(record.rounds[0].papers) == before
    assert all(isinstance(paper, PaperRecord) for paper in before)
