"""Exports of an election's results: JSON, CSV, XLSX, and NIST SP 1500-100 / SP 1500-103 JSON
validated against the official schemas (``tests/results/schemas/``, origin in its README): NIST
SP 1500-100 v2 (ERR, 2019-12-16) and SP 1500-103 v1 (CVR, 2019-07-08), checked by
``tests.results.nist`` (draft-04, formats, references)."""

import csv
import datetime
import io
import json
from collections import Counter
from typing import Any

import pytest
from openpyxl import load_workbook

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.results import exports
from app.results.exports import ElectionRecord, elected_across_rounds
from app.rules.model import PaperRecord
from app.settings import Settings
from tests.builders import (
    SEED_BALLOT_ORDER,
    Api,
    ReadyElection,
    expect,
    issue_and_collect,
    login_as,
    login_official,
    make_ready_election,
    open_round,
)
from tests.results.helpers import (
    DATE,
    NOW,
    counted,
    example_papers,
    paper,
    round_file,
    two_round_election,
)
from tests.results.nist import assert_valid


def one_round() -> ElectionRecord:
    _, record = counted(round_file())
    return ElectionRecord("7", "主席团成员选举", "Presidium election", "学代会", DATE, (record,))


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
    assert_valid("err", document)
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
        ("r2", "张伟"): "defeated",
        ("r2", "刘洋"): "winner",
    }
    # One Person per human being across rounds; a name has no English form (no "en" text).
    assert sorted(people.values()) == sorted(["王宁", "李娜", "张伟", "刘洋"])
    assert {len(person["FullName"]["Text"]) for person in document["Person"]} == {1}
    # Each round is counted in its own reporting unit, inside the congress (the contests' district).
    units = {unit["@id"]: unit for unit in document["GpUnit"]}
    assert units["gpu-congress"]["ComposingGpUnitIds"] == ["gpu-r1", "gpu-r2"]
    assert {c["ElectionDistrictId"] for c in contests} == {"gpu-congress"}
    assert (units["gpu-r2"]["VotersRegistered"], units["gpu-r2"]["VotersParticipated"]) == (
        189,
        178,
    )
    assert [
        (b["GpUnitId"], b["BallotsCast"], b["BallotsRejected"]) for b in election["BallotCounts"]
    ] == [("gpu-r1", 180, 0), ("gpu-r2", 178, 0)]
    assert "OtherCounts" not in contests[1]  # M7: a tie round has no write-in boxes


def test_nist_err_vote_counts_yes_no_abstain_and_write_ins() -> None:
    document = exports.nist_err(one_round(), generated_at=NOW)
    assert_valid("err", document)
    [election] = document["Election"]
    [contest] = election["Contest"]
    [ballots] = election["BallotCounts"]
    assert (ballots["GpUnitId"], ballots["BallotsCast"], ballots["BallotsRejected"]) == (
        "gpu-r1", 180, 10,
    )  # fmt: skip
    candidates = {c["@id"]: c for c in election["Candidate"]}
    counts = {}
    write_ins = set()
    for selection in contest["ContestSelection"]:
        [candidate_id] = selection["CandidateIds"]
        name = candidates[candidate_id]["BallotName"]["Text"][0]["Content"]
        counts[name] = {
            vote.get("OtherType", vote["Type"]): vote["Count"] for vote in selection["VoteCounts"]
        }
        assert {vote["GpUnitId"] for vote in selection["VoteCounts"]} == {"gpu-r1"}
        if selection.get("IsWriteIn"):
            write_ins.add(name)
        assert "PreElectionStatus" not in candidates[candidate_id]  # "write-in" is no status
    assert counts["王宁"] == {"total": 130, "no": 40, "abstain": 0}
    assert counts["赵六"] == {"total": 90}
    assert write_ins == {"赵六", "钱七", "孙八"}
    [other] = contest["OtherCounts"]
    assert other["WriteIns"] == 90 + 39 + 39  # the yes votes of the written-in persons
    assert document["Status"] == "unofficial-complete"
    assert exports.nist_err(one_round(), generated_at=NOW, certified=True)["Status"] == "certified"


def test_nist_err_advanced_are_the_follow_up_rounds_candidates() -> None:
    """M8: the presidium may edit the engine's list; the ERR says who actually went on."""
    first = one_round().rounds[0]
    assert first.result.next_round is not None
    assert first.result.next_round.candidates == ("张伟", "赵六")
    proposed = exports.nist_err(one_round(), generated_at=NOW)
    _, second = counted(
        round_file(round=2, round_kind="supplementary", seats=1, candidates=["张伟", "刘洋"],
                   papers=[paper(张伟="yes")] * 100 + [paper(刘洋="yes")] * 80)
    )  # fmt: skip
    record = ElectionRecord("7", "t", "t", "c", DATE, (first, second))
    edited = exports.nist_err(record, generated_at=NOW)
    assert_valid("err", edited)

    def first_round_status(document: dict[str, Any]) -> dict[str, str | None]:
        people = {p["@id"]: p["FullName"]["Text"][0]["Content"] for p in document["Person"]}
        return {
            people[c["PersonId"]]: c.get("PostElectionStatus")
            for c in document["Election"][0]["Candidate"]
            if c["@id"].startswith("cand-r1-")
        }

    before, after = first_round_status(proposed), first_round_status(edited)
    assert (before["张伟"], before["赵六"], before["刘洋"]) == (
        "advanced-to-runoff", "advanced-to-runoff", "defeated",
    )  # fmt: skip
    assert (after["张伟"], after["赵六"], after["刘洋"]) == (
        "advanced-to-runoff", "defeated", "advanced-to-runoff",
    )  # fmt: skip
    assert before["王宁"] == after["王宁"] == "winner"


def test_nist_err_labels_no_chinese_text_english() -> None:
    """The service has no English title (title_en is the Chinese title): no "en" text then."""
    _, round_record = counted(round_file())
    record = ElectionRecord(
        "7", "主席团成员选举", "主席团成员选举", "学代会", DATE, (round_record,)
    )
    document = exports.nist_err(record, generated_at=NOW)
    assert_valid("err", document)
    texts = [
        (text["Language"], text["Content"])
        for key, value in walk(document)
        if key == "Text" and isinstance(value, list)
        for text in value
    ]
    english = [content for language, content in texts if language == "en"]
    assert english == ["round 1 (regular round)"]  # the round unit's name only
    assert all(not any("\u4e00" <= char <= "\u9fff" for char in content) for content in english)


def test_nist_err_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        exports.nist_err(one_round(), generated_at=datetime.datetime(2026, 5, 1))  # noqa: DTZ001


# --- NIST SP 1500-103 ----------------------------------------------------------------------------


def decode_cvr(document: dict[str, Any], record: ElectionRecord) -> Counter[tuple[Any, ...]]:
    """Read the papers back from the CVR with the documented mapping (docs/exports.md)."""
    papers: Counter[tuple[Any, ...]] = Counter()
    rounds = {round_record.number: round_record for round_record in record.rounds}
    for cvr in document["CVR"]:
        [snapshot] = cvr["CVRSnapshot"]
        assert cvr["CurrentSnapshotId"] == snapshot["@id"]
        number = int(cvr["BallotStyleId"].removeprefix("round-"))
        definition = rounds[number].result.definition
        marks = []
        write_ins: list[str | None] = []
        for contest in snapshot["CVRContest"]:
            if contest["ContestId"].endswith("write-ins"):
                write_ins = [
                    selection["SelectionPosition"][0]["CVRWriteIn"].get("Text")
                    for selection in contest.get("CVRContestSelection", [])
                ]
                assert contest["WriteIns"] == len(write_ins)
                continue
            selections = contest.get("CVRContestSelection", [])
            if selections:
                marks.append(selections[0]["ContestSelectionId"].rsplit("-", 1)[1])
            elif "undervoted" in contest.get("Status", []):
                marks.append("blank")
            else:
                marks.append("illegible")
        assert len(marks) == len(definition.candidates)
        papers[(number, tuple(marks), tuple(write_ins))] += 1
    return papers


def expected_papers(record: ElectionRecord) -> Counter[tuple[Any, ...]]:
    expected: Counter[tuple[Any, ...]] = Counter()
    for round_record in record.rounds:
        for entered in round_record.papers:
            expected[(round_record.number, entered.marks, entered.write_ins)] += 1
    return expected


def allocated(document: dict[str, Any]) -> Counter[tuple[str, str]]:
    """What a CVR consumer counts: (round, selection) for every allocable indication."""
    counts: Counter[tuple[str, str]] = Counter()
    for cvr in document["CVR"]:
        for contest in cvr["CVRSnapshot"][0]["CVRContest"]:
            for selection in contest.get("CVRContestSelection", []):
                for position in selection["SelectionPosition"]:
                    if position["IsAllocable"] == "yes":
                        counts[(cvr["BallotStyleId"], selection["ContestSelectionId"])] += 1
    return counts


def expected_allocation(
    document: dict[str, Any], record: ElectionRecord
) -> Counter[tuple[str, str]]:
    """The decided tallies, in the CVR's selection ids (via the contests' names)."""
    [election] = document["Election"]
    names = {candidate["@id"]: candidate["Name"] for candidate in election["Candidate"]}
    expected: Counter[tuple[str, str]] = Counter()
    for round_record in record.rounds:
        result = round_record.result
        if not result.valid:
            continue
        style = f"round-{round_record.number}"
        persons = {person.name: person for person in result.tally.persons}
        for contest in election["Contest"]:
            if not contest["@id"].startswith(f"r{round_record.number}-"):
                continue
            for selection in contest["ContestSelection"]:
                if contest["@type"] == "CVR.RetentionContest":
                    person = persons[names[contest["CandidateId"]]]
                    votes = getattr(person, selection["Selection"])
                elif "CandidateIds" in selection:
                    [candidate] = selection["CandidateIds"]
                    votes = persons[names[candidate]].yes
                else:
                    votes = 0  # w0: a write-in credited to nobody
                if votes:
                    expected[(style, selection["@id"])] = votes
    return expected


def test_nist_cvr_validates_and_keeps_every_paper() -> None:
    record = one_round()
    document = exports.nist_cvr(record, generated_at=NOW)
    assert_valid("cvr", document)
    assert len(document["CVR"]) == 180
    assert decode_cvr(document, record) == expected_papers(record)
    # Counting the allocable indications gives the decided yes/no/abstain and write-in votes,
    # except that a blank counts as abstaining (P5) without an indication.
    expected = expected_allocation(document, record)
    blanks = Counter(
        ("round-1", f"r1-c{index + 1}-abstain")
        for paper in record.rounds[0].papers
        if record.rounds[0].result.tally.judgements[paper].valid
        for index, mark in enumerate(paper.marks)
        if mark in ("blank", "illegible")
    )
    assert allocated(document) + blanks == expected


def test_nist_cvr_of_two_rounds_validates() -> None:
    record = two_round_election()
    document = exports.nist_cvr(record, generated_at=NOW)
    assert_valid("cvr", document)
    contest_ids = [contest["@id"] for contest in document["Election"][0]["Contest"]]
    assert "r2-write-ins" not in contest_ids  # M7: a tie-round paper has no 另选他人 boxes
    assert "r1-write-ins" in contest_ids
    assert decode_cvr(document, record) == expected_papers(record)


def test_nist_cvr_mapping_of_marks_and_write_ins() -> None:
    data = round_file(
        collected=2,
        papers=[
            {
                "marks": {"王宁": "yes", "张伟": "no", "李娜": "illegible", "刘洋": "no"},
                "write_ins": ["赵六", "王宁", None],
            },
            {"marks": {"张伟": "no"}, "write_ins": ["赵六", None]},  # P2: 2 write-ins, one ×
        ],
    )
    _, round_record = counted(data)
    record = ElectionRecord("7", "t", "t", "c", DATE, (round_record,))
    document = exports.nist_cvr(record, generated_at=NOW, shuffle=False)
    assert_valid("cvr", document)
    valid, invalid = (
        {c["ContestId"]: c for c in cvr["CVRSnapshot"][0]["CVRContest"]} for cvr in document["CVR"]
    )
    ballot = round_record.result.definition.candidates
    c = {name: f"r1-c{i + 1}" for i, name in enumerate(ballot)}
    assert valid[c["王宁"]]["CVRContestSelection"] == [
        {
            "@type": "CVR.CVRContestSelection",
            "ContestSelectionId": f"{c['王宁']}-yes",
            "SelectionPosition": [
                {
                    "@type": "CVR.SelectionPosition",
                    "HasIndication": "yes",
                    "IsAllocable": "yes",
                    "NumberVotes": 1,
                }
            ],
        }
    ]
    assert valid[c["张伟"]]["CVRContestSelection"][0]["ContestSelectionId"] == f"{c['张伟']}-no"
    assert valid[c["李娜"]]["Status"] == ["other"]
    assert valid[c["李娜"]]["OtherStatus"] == "illegible"
    assert "CVRContestSelection" not in valid[c["李娜"]]
    assert valid[c["欧阳晓东"]]["Status"] == ["not-indicated", "undervoted"]
    assert "CVRContestSelection" not in valid[c["欧阳晓东"]]
    zhao, wang, unreadable = valid["r1-write-ins"]["CVRContestSelection"]
    assert zhao == {
        "@type": "CVR.CVRContestSelection",
        "ContestSelectionId": "r1-w1",
        "SelectionPosition": [
            {
                "@type": "CVR.SelectionPosition",
                "HasIndication": "yes",
                "IsAllocable": "yes",
                "NumberVotes": 1,
                "CVRWriteIn": {"@type": "CVR.CVRWriteIn", "Text": "赵六"},
            }
        ],
    }
    # P7: a printed candidate written in is disregarded (the mark decides): kept, credited to
    # nobody (w0), not allocable.
    assert (wang["ContestSelectionId"], wang["Status"], wang["OtherStatus"]) == (
        "r1-w0", ["invalidated-rules"], "P7",
    )  # fmt: skip
    assert wang["SelectionPosition"][0]["IsAllocable"] == "no"
    assert wang["SelectionPosition"][0]["CVRWriteIn"] == {"@type": "CVR.CVRWriteIn", "Text": "王宁"}
    # An illegible write-in: an indication without text, credited to nobody.
    assert (unreadable["ContestSelectionId"], unreadable["Status"]) == ("r1-w0", ["other"])
    assert unreadable["OtherStatus"] == "illegible"
    assert unreadable["SelectionPosition"][0]["CVRWriteIn"] == {"@type": "CVR.CVRWriteIn"}
    assert unreadable["SelectionPosition"][0]["IsAllocable"] == "no"
    assert valid["r1-write-ins"]["WriteIns"] == 3
    # The invalid paper keeps its marks; every contest says why it does not count (P2, P8).
    assert invalid[c["张伟"]]["Status"] == ["invalidated-rules"]
    assert invalid[c["张伟"]]["OtherStatus"] == "P2"
    [position] = invalid[c["张伟"]]["CVRContestSelection"][0]["SelectionPosition"]
    assert (position["IsAllocable"], position["Status"]) == ("no", ["invalidated-rules"])
    assert invalid["r1-write-ins"]["OtherStatus"] == "P2"
    zhao_invalid, unreadable_invalid = invalid["r1-write-ins"]["CVRContestSelection"]
    assert zhao_invalid["ContestSelectionId"] == "r1-w1"
    assert zhao_invalid["SelectionPosition"][0]["IsAllocable"] == "no"
    assert unreadable_invalid["OtherStatus"] == "illegible"
    assert allocated(document) == Counter(
        {("round-1", f"{c['王宁']}-yes"): 1, ("round-1", f"{c['张伟']}-no"): 1,
         ("round-1", f"{c['刘洋']}-no"): 1, ("round-1", "r1-w1"): 1}
    )  # fmt: skip


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
        assert_valid("cvr", document)
        orders.add(json.dumps(document["CVR"], ensure_ascii=False))
        assert decode_cvr(document, record) == expected_papers(record)
    assert len(orders) == 3  # 48! orders: equal twice only by a broken shuffle
    keys = {key for key, _ in walk(document)}
    for forbidden in (
        "UniqueId", "BallotAuditId", "BallotPrePrintedId", "BallotSheetId", "BatchId",
        "BatchSequenceId", "CreatingDeviceId", "BallotImage", "TimeStamp", "Annotation",
    ):  # fmt: skip
        assert forbidden not in keys
    # The schema requires a snapshot @id per paper: it is the paper's place in the shuffled list,
    # nothing else (r1-p1, r1-p2, … in document order).
    snapshot_ids = [cvr["CurrentSnapshotId"] for cvr in document["CVR"]]
    assert snapshot_ids == [f"r1-p{place}" for place in range(1, len(papers) + 1)]
    ids = [value for key, value in walk(document) if key == "@id"]
    assert len(ids) == len(set(ids))
    unshuffled = exports.nist_cvr(record, generated_at=NOW, shuffle=False)
    first = unshuffled["CVR"][0]["CVRSnapshot"][0]["CVRContest"]
    assert first[0]["CVRContestSelection"][0]["ContestSelectionId"].endswith("-yes")


def without_snapshot_ids(cvr: dict[str, Any]) -> str:
    stripped = {key: value for key, value in cvr.items() if key != "CurrentSnapshotId"}
    stripped["CVRSnapshot"] = [
        {key: value for key, value in snapshot.items() if key != "@id"}
        for snapshot in cvr["CVRSnapshot"]
    ]
    return json.dumps(stripped, ensure_ascii=False)


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
    assert Counter(map(without_snapshot_ids, a["CVR"])) == Counter(
        map(without_snapshot_ids, b["CVR"])
    )
    # The snapshot ids follow the list's order only: the same places, whatever the papers.
    assert [cvr["CurrentSnapshotId"] for cvr in a["CVR"]] == [
        cvr["CurrentSnapshotId"] for cvr in b["CVR"]
    ]


def test_paper_records_are_unchanged_by_export() -> None:
    record = one_round()
    before = list(record.rounds[0].papers)
    exports.nist_cvr(record, generated_at=NOW)
    assert list(record.rounds[0].papers) == before
    assert all(isinstance(paper, PaperRecord) for paper in before)


def test_nist_exports_of_a_void_round_and_its_rerun() -> None:
    """A round file with more papers collected than present (I2), then its rerun: the void round's
    papers are kept in the CVR but allocate nothing, and the ERR reports no vote and no status."""
    _, void = counted(round_file(collected=181, papers=[*example_papers(), example_papers()[0]]))
    assert not void.result.valid
    _, rerun = counted(round_file(round=2, round_kind="rerun"))
    record = ElectionRecord(
        "7", "主席团成员选举", "Presidium election", "学代会", DATE, (void, rerun)
    )
    err = exports.nist_err(record, generated_at=NOW)
    cvr = exports.nist_cvr(record, generated_at=NOW)
    assert_valid("err", err)
    assert_valid("cvr", cvr)
    [election] = err["Election"]
    first, second = election["Contest"]
    assert first["CountStatus"][0]["Status"] == "not-processed"
    assert all("VoteCounts" not in selection for selection in first["ContestSelection"])
    assert "OtherCounts" not in first
    assert second["CountStatus"][0]["Status"] == "completed"
    statuses = Counter(
        (candidate["@id"].split("-")[1], candidate.get("PostElectionStatus"))
        for candidate in election["Candidate"]
    )
    assert statuses[("r1", None)] == len(first["ContestSelection"])
    assert statuses[("r2", "winner")] == 2
    ballots = [(b["GpUnitId"], b["BallotsCast"], b.get("BallotsRejected"))
               for b in election["BallotCounts"]]  # fmt: skip
    assert ballots == [("gpu-r1", 181, None), ("gpu-r2", 180, 10)]
    assert decode_cvr(cvr, record) == expected_papers(record)
    void_papers = [c for c in cvr["CVR"] if c["BallotStyleId"] == "round-1"]
    assert len(void_papers) == 181
    assert {(c["CVRSnapshot"][0]["Status"][0], c["CVRSnapshot"][0]["OtherStatus"])
            for c in void_papers} == {("other", "round-void-I2")}  # fmt: skip
    assert not [key for key in allocated(cvr) if key[0] == "round-1"]
    assert (
        "Status"
        not in next(c for c in cvr["CVR"] if c["BallotStyleId"] == "round-2")["CVRSnapshot"][0]
    )


# --- whole elections over HTTP, both databases --------------------------------------------------

Marks = dict[str, str]


def enter_papers(
    api: Api, settings: Settings, ready: ReadyElection, round_: dict[str, Any],
    papers: list[tuple[Marks, list[str | None]]],
) -> None:  # fmt: skip
    """Both passes of one batch (two tellers); a paper's unmarked candidates are blank."""
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=ready.election.id,
        round_number=round_["number"],
        definition_hash=round_["definition_hash"],
    )
    congress = ready.congress.id
    teller_ids = [official.id for official in ready.officials["teller"][:2]]
    body = {"declared_count": len(papers), "teller_a_id": teller_ids[0],
            "teller_b_id": teller_ids[1]}  # fmt: skip
    batch = expect(api.post(f"/api/rounds/{round_['id']}/batches", json=body), 201)
    for tag, teller_id in zip("ab", teller_ids, strict=True):
        teller = login_official(api, congress, teller_id)
        for n, (marks, write_ins) in enumerate(papers):
            paper = {
                "idempotency_key": f"{tag}-{n}",
                "qr_payload": payload,
                "marks": {name: marks.get(name, "blank") for name in round_["candidates"]},
                "write_ins": write_ins,
                "void": None,
            }
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)


def decide_and_certify(api: Api, ready: ReadyElection, round_id: int) -> dict[str, Any]:
    congress = ready.congress.id
    chief = login_official(api, congress, ready.officials["chief_scrutineer"][0].id)
    scrutineer = login_official(api, congress, ready.officials["scrutineer"][0].id)
    decided: dict[str, Any] = expect(chief.post(f"/api/rounds/{round_id}/decide"), 200)
    expect(chief.post(f"/api/rounds/{round_id}/sign"), 200)
    expect(scrutineer.post(f"/api/rounds/{round_id}/sign"), 200)
    return decided["result"]


def nist_exports(api: Api, auditor: Api, election_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ERR as the secretariat reads it; the CVR (per-paper records) as the auditor."""
    base = f"/api/elections/{election_id}/results"
    err = expect(api.get(f"{base}.nist-err.json"), 200)
    cvr = expect(auditor.get(f"{base}.nist-cvr.json"), 200)
    assert_valid("err", err)
    assert_valid("cvr", cvr)
    return err, cvr


def yes(*names: str) -> Marks:
    """Yes for ``names``, no for the other candidates of the seed ballot."""
    return {name: "yes" if name in names else "no" for name in SEED_BALLOT_ORDER}


def test_nist_exports_of_a_whole_election_validate(api: Api, settings: Settings) -> None:
    """Void round (I2) and its rerun with write-ins (one illegible, one of a printed candidate,
    P7), an invalid paper (P2) and a shortfall; the supplementary round; its tie round (M7)."""
    wang, liu, li, _, _ = SEED_BALLOT_ORDER
    ready = make_ready_election(api, delegates_total=16, present=15, seats=3)
    election = ready.election.id
    presidium = login_as(api, ready.congress.id, "presidium")
    auditor = login_as(api, ready.congress.id, "auditor")
    before = expect(auditor.get(f"/api/elections/{election}/results.nist-cvr.json"), 409)
    assert before["code"] == "nothing_decided"

    first = open_round(api, election)
    voided = issue_and_collect(api, first.id, printed=16, issued=15, collected=16)
    assert voided.void
    assert voided.rerun is not None
    rerun = voided.rerun.model_dump()
    issue_and_collect(api, rerun["id"], printed=16, issued=15, collected=15)
    enter_papers(api, settings, ready, rerun, [
        *[(yes(wang, liu), [])] * 5,
        *[(yes(wang, li), [])] * 4,
        (yes(liu), ["赵六"]),
        (yes(li), [None, wang]),  # an illegible write-in; 王宁 is printed: disregarded (P7)
        *[({wang: "blank", liu: "abstain"}, [])] * 3,
        ({**yes(wang, li), "张伟": "yes", "欧阳晓东": "yes"}, ["赵六", "钱七"]),  # P2
    ])  # fmt: skip
    second = decide_and_certify(api, ready, rerun["id"])
    assert second["elected"] == [wang]
    assert second["next_round"]["kind"] == "supplementary"
    err, cvr = nist_exports(api, auditor, election)
    [contest] = err["Election"][0]["Contest"]
    assert (contest["SequenceOrder"], contest["VotesAllowed"]) == (2, 3)  # the void round: none
    sizes = [len(c["ContestSelection"]) for c in cvr["Election"][0]["Contest"]]
    assert sizes == [3] * 6  # yes/no/abstain per printed candidate; w0, 赵六, 钱七
    assert len(cvr["CVR"]) == 15

    expect(presidium.post(f"/api/rounds/{rerun['id']}/release"), 200)  # C3 first
    supplementary = expect(presidium.post(f"/api/rounds/{rerun['id']}/follow-up", json={}), 201)
    assert (supplementary["kind"], supplementary["seats"]) == ("supplementary", 2)
    x, y, z = supplementary["candidates"][:3]
    issue_and_collect(api, supplementary["id"], printed=16, issued=15, collected=15)
    enter_papers(api, settings, ready, supplementary, [
        *[({x: "yes", y: "yes"}, [])] * 5,
        *[({x: "yes", z: "yes"}, [])] * 5,
        *[({y: "yes", z: "yes"}, [])] * 4,
        ({}, []),
    ])  # fmt: skip
    third = decide_and_certify(api, ready, supplementary["id"])
    assert third["elected"] == [x]
    assert third["next_round"] == {"kind": "tie", "seats": 1, "candidates": [y, z]}

    expect(presidium.post(f"/api/rounds/{supplementary['id']}/release"), 200)  # C3 first
    tie = expect(presidium.post(f"/api/rounds/{supplementary['id']}/follow-up", json={}), 201)
    issue_and_collect(api, tie["id"], printed=16, issued=15, collected=15)
    enter_papers(api, settings, ready, tie, [
        *[({y: "yes"}, [])] * 8,
        *[({z: "yes"}, [])] * 6,
        ({y: "yes", z: "yes"}, []),  # P3: two for one seat
    ])  # fmt: skip
    fourth = decide_and_certify(api, ready, tie["id"])
    assert fourth["elected"] == [y]

    err, cvr = nist_exports(api, auditor, election)
    assert err["Status"] == "certified"
    [err_election] = err["Election"]
    contests = err_election["Contest"]
    assert [(c["SequenceOrder"], c["VoteVariation"], c["NumberElected"]) for c in contests] == [
        (2, "majority", 3), (3, "majority", 2), (4, "plurality", 1),
    ]  # fmt: skip
    assert [(b["GpUnitId"], b["BallotsCast"], b["BallotsRejected"])
            for b in err_election["BallotCounts"]] == [
        ("gpu-r2", 15, 1), ("gpu-r3", 15, 0), ("gpu-r4", 15, 1),
    ]  # fmt: skip
    people = {person["@id"]: person["FullName"]["Text"][0]["Content"] for person in err["Person"]}
    winners = [
        (candidate["@id"].split("-")[1], people[candidate["PersonId"]])
        for candidate in err_election["Candidate"]
        if candidate.get("PostElectionStatus") == "winner"
    ]
    assert winners == [("r2", wang), ("r3", x), ("r4", y)]
    write_ins = {
        people[candidate["PersonId"]]
        for contest in contests
        for selection in contest["ContestSelection"]
        if selection.get("IsWriteIn")
        for candidate in err_election["Candidate"]
        if candidate["@id"] in selection["CandidateIds"]
    }
    assert write_ins == {"赵六"}  # 钱七 is named only on the invalid paper: no vote (P8)

    assert len(cvr["CVR"]) == 45
    by_round = Counter(c["BallotStyleId"] for c in cvr["CVR"])
    assert by_round == {"round-2": 15, "round-3": 15, "round-4": 15}
    contest_ids = {contest["@id"] for contest in cvr["Election"][0]["Contest"]}
    assert {"r2-write-ins", "r3-write-ins"} <= contest_ids
    assert "r4-write-ins" not in contest_ids  # M7
    texts = Counter(
        (selection["ContestSelectionId"], selection.get("OtherStatus"),
         selection["SelectionPosition"][0]["CVRWriteIn"].get("Text"))
        for c in cvr["CVR"]
        for contest in c["CVRSnapshot"][0]["CVRContest"]
        if contest["ContestId"] == "r2-write-ins"
        for selection in contest.get("CVRContestSelection", [])
    )  # fmt: skip
    assert texts == {
        ("r2-w1", None, "赵六"): 2,  # the valid paper's, and the invalid paper's (not allocable)
        ("r2-w0", "illegible", None): 1,
        ("r2-w0", "P7", wang): 1,
        ("r2-w2", None, "钱七"): 1,  # written only on the invalid paper: a selection, no vote
    }
