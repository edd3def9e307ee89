"""``jipiao rehearse``: a whole election of the seed's shape, through the real HTTP API.

A throw-away server (``app.rehearse.server``) on a temporary SQLite database; the rehearsal then
acts every person in the hall over HTTP: the secretariat sets up the congress (roster, election,
candidates, officials and their login codes), the check-in desk counts the delegates in, papers
are printed, issued and collected, the chief teller makes batches, two tablets enter every batch
blind (pass A and pass B by different tellers, O3) with a few slips that double entry must catch,
the scrutineers resolve the differences and the unclear marks, the chief scrutineer has the round
decided and signs with a scrutineer, the presidium releases the result and opens the follow-up
round, until the seats are filled. Then the auditor downloads the election record and it is
verified offline (``app.audit``), and every certified result is compared with the result the
rules engine gives for the papers the delegates actually marked.

Exit codes: 0 the rehearsal went through and everything agrees; 1 it found a problem (a request
refused or failed, a result or the offline verify disagreeing), named on stderr; 2 bad usage.
"""

import io
import math
import random
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from app.audit.record import check_record
from app.auth.roles import ROLE_NAMES_ZH, Role
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE, replay_rounds
from app.names import DEFAULT_NAME_ORDER, sort_names
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.rehearse.ballots import BatchPlan, RoundPlan, expected_result, plan_round
from app.rehearse.client import Api, ApiError, RehearsalFailed
from app.rehearse.server import Server, temporary_server
from app.rules import RoundKind
from app.rules.model import UNCLEAR
from app.setup.demo import DELEGATIONS, DEMO_ELECTION_TITLE, DEMO_OFFICIALS, demo_names

EXIT_PROBLEM = 1
EXIT_BAD_USAGE = 2
MIN_PAPERS = 20  # the roster must hold 5 candidates, 11 officials and two write-in persons
MAX_PAPERS = 5000  # the most papers one papers.pdf prints (app.papers.service.MAX_COPIES)
MAX_ROUNDS = 6
SEATS = 3
CONGRESS_NAME = "信息工程学院第五次学生代表大会（演练）"
KIND_ZH = {"regular": "第一轮", "tie": "票数相等重新投票", "supplementary": "另行选举",
           "rerun": "重新选举"}  # fmt: skip


def delegates_total(papers: int) -> int:
    """A few delegates stay away, as in the seed (180 of 189); quorum (Q1) always holds."""
    return papers + papers // 20


@dataclass
class Tally:
    """What the rehearsal did, for the summary and the checks against the record."""

    rounds: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    differences: int = 0
    unclear: int = 0
    disputed_batches: int = 0
    slipped_batches: int = 0


@dataclass(frozen=True)
class Official:
    id: int
    api: Api


class Rehearsal:
    def __init__(
        self,
        server: Server,
        out: Console,
        err: Console,
        *,
        papers: int,
        seed: int,
        export: Path | None,
        workdir: Path,
    ) -> None:
        self.server = server
        self.out = out
        self.err = err
        self.papers = papers
        self.total = delegates_total(papers)
        self.rng = random.Random(seed)
        self.export = export
        self.workdir = workdir
        self.admin = server.api(server.admin_token)
        self.names = demo_names(self.total, seed=seed)
        self.candidates = self.names[:5]
        self.write_in_names = self.names[16:18]
        self.officials: dict[Role, list[Official]] = {}
        self.done = Tally()

    # ------------------------------------------------------------ the hall

    def run(self) -> None:
        congress_id, election_id = self.set_up()
        self.check_in(congress_id)
        self.check_readiness(election_id)
        round_ = self.admin.post(f"/api/elections/{election_id}/rounds", expect=201)
        payloads: list[str] = []
        while True:
            result = self.hold_round(round_, payloads)
            if result["next_round"] is None:
                break
            if len(self.done.rounds) >= MAX_ROUNDS:
                raise RehearsalFailed(
                    f"{MAX_ROUNDS} 轮之后仍未选满", f"seats still open after {MAX_ROUNDS} rounds"
                )
            presidium = self.one(Role.presidium)
            round_ = presidium.api.post(f"/api/rounds/{round_['id']}/follow-up", {}, expect=201)
        self.finish(election_id)

    def one(self, role: Role) -> Official:
        return self.officials[role][0]

    def set_up(self) -> tuple[int, int]:
        self.out.print(f"大会设置 / setting up: {CONGRESS_NAME}")
        congress = self.admin.post(
            "/api/congresses",
            {"name": CONGRESS_NAME, "delegates_total": self.total},
            expect=201,
        )
        congress_id: int = congress["id"]
        lines = ["姓名,代表团,学号"] + [
            f"{name},{DELEGATIONS[i % len(DELEGATIONS)]},{self.student_id(i)}"
            for i, name in enumerate(self.names)
        ]
        imported = self.admin.call(
            "POST",
            f"/api/congresses/{congress_id}/roster",
            form_file=("file", "roster.csv", "\n".join(lines).encode("utf-8")),
            expect=201,
        ).json()
        self.require(
            imported["imported"] == self.total,
            f"名单导入 {imported['imported']} 人，应为 {self.total}",
            f"the roster imported {imported['imported']} delegates, not {self.total}",
        )
        election = self.admin.post(
            f"/api/congresses/{congress_id}/elections",
            {"title": DEMO_ELECTION_TITLE, "seats": SEATS, "profile": {}},
            expect=201,
        )
        election_id: int = election["id"]
        for i, name in enumerate(self.candidates):
            body = {"name": name, "student_id": self.student_id(i)}
            self.admin.post(f"/api/elections/{election_id}/candidates", body, expect=201)
        anonymous = self.server.api()
        for offset, role in enumerate(DEMO_OFFICIALS, start=len(self.candidates)):
            body = {"name": self.names[offset], "role": role, "student_id": self.student_id(offset)}
            official = self.admin.post(f"/api/congresses/{congress_id}/officials", body, expect=201)
            code = self.admin.post(
                f"/api/congresses/{congress_id}/officials/{official['id']}/login-code"
            )["code"]
            session = anonymous.post("/api/auth/login", {"code": code})
            self.officials.setdefault(role, []).append(
                Official(official["id"], self.server.api(session["token"]))
            )
        anonymous.close()
        roles = Counter(DEMO_OFFICIALS)
        self.out.print(
            f"  代表 / delegates {self.total}（{len(DELEGATIONS)} 个代表团 / delegations）；"
            f"选举 / election {DEMO_ELECTION_TITLE} {SEATS} 名 / seats，"
            f"候选人 / candidates {len(self.candidates)}；工作人员 / officials "
            + "、".join(f"{ROLE_NAMES_ZH[role]} {role.value} {n}" for role, n in roles.items())
            + "（各自登录 / each logged in with a one-time code）"
        )
        return congress_id, election_id

    @staticmethod
    def student_id(index: int) -> str:
        return f"2026{index + 1:04d}"

    def check_in(self, congress_id: int) -> None:
        present = sorted(self.rng.sample(range(self.total), self.papers))
        with self.progress() as bar:
            task = bar.add_task("签到 / check-in", total=len(present))
            for index in present:
                body = {"student_id": self.student_id(index)}
                self.admin.post(f"/api/congresses/{congress_id}/check-in", body)
                bar.advance(task)
        attendance = self.admin.get(f"/api/congresses/{congress_id}/attendance")
        self.require(
            attendance["present"] == self.papers,
            f"实到 {attendance['present']} 人，应为 {self.papers}",
            f"{attendance['present']} present, expected {self.papers}",
        )
        self.out.print(f"签到 / check-in: 实到 / present {self.papers} / {self.total}")

    def check_readiness(self, election_id: int) -> None:
        ready = self.admin.get(f"/api/elections/{election_id}/readiness")
        quorum = ready["quorum"]
        self.require(
            ready["ready"],
            f"不能发票：{ready}",
            f"papers may not be issued: {ready}",
        )
        self.out.print(
            f"  差额、工作人员配备、法定人数 / slate, staffing (O2), quorum (Q1 ≥ "
            f"{quorum['required']}): 可以发票 / papers may be issued"
        )

    def hold_round(self, round_: dict[str, Any], payloads: list[str]) -> dict[str, Any]:
        round_id: int = round_["id"]
        number: int = round_["number"]
        kind: RoundKind = round_["kind"]
        seats: int = round_["seats"]
        candidates: list[str] = round_["candidates"]
        self.out.print(
            f"第 {number} 轮 / round {number}: {KIND_ZH[kind]} / {kind}, "
            f"{seats} 名 / seats, 候选人 / candidates {'、'.join(candidates)}"
        )
        ballot_order = sort_names(candidates, DEFAULT_NAME_ORDER).names
        self.require(
            list(ballot_order) == candidates and round_["present"] == self.papers,
            f"第 {number} 轮的候选人顺序或实到人数不对：{candidates}，{round_['present']}",
            f"round {number}: candidates not in stroke order or present wrong: {candidates}, "
            f"{round_['present']}",
        )
        self.issue_and_collect(round_id, number)
        # The rehearsal has no camera: it reads the papers' QR code from the key the server keeps
        # in the rehearsal's own data directory; the tablets' scan must accept it.
        payload = encode_payload(
            key=load_or_create_qr_key(self.server.data_dir),
            election_id=round_["election_id"],
            round_number=number,
            definition_hash=round_["definition_hash"],
        )
        self.scan(round_id, payload, payloads)
        payloads.append(payload)

        counted_as: RoundKind = round_["definition"]["kind"]  # a rerun: as the round it reruns
        plan = plan_round(
            self.rng,
            kind=counted_as,
            seats=seats,
            candidates=candidates,
            present=self.papers,
            write_in_names=self.write_in_names,
            differences=max(2, min(5, self.papers // 50)),
        )
        expected = expected_result(
            kind=counted_as,
            seats=seats,
            candidates=candidates,
            delegates_total=self.total,
            present=self.papers,
            issued=self.papers,
            papers=plan.truth,
        )
        batch_ids = self.make_batches(round_id, plan)
        self.enter(number, candidates, payload, plan, batch_ids)
        self.adjudicate(round_id, number, candidates, plan, batch_ids)
        decided = self.decide_and_certify(round_id, number, expected)
        self.report(round_id, number)
        self.show_round(decided, plan)
        self.done.rounds.append((round_, decided))
        return decided

    def issue_and_collect(self, round_id: int, number: int) -> None:
        """Print a few spare papers, issue one to everyone present and collect them all."""
        printed = min(MAX_PAPERS, self.papers + max(2, self.papers // 50))
        self.print_papers(round_id, number, printed)
        self.admin.post(
            f"/api/rounds/{round_id}/issuance", {"printed": printed, "issued": self.papers}
        )
        collection = self.admin.post(
            f"/api/rounds/{round_id}/collection", {"collected": self.papers}
        )
        self.require(
            not collection["void"],
            f"第 {number} 轮被判无效",
            f"round {number} was declared void",
        )

    def print_papers(self, round_id: int, number: int, copies: int) -> None:
        response = self.admin.call("GET", f"/api/rounds/{round_id}/papers.pdf?copies={copies}")
        pages = self.pdf_pages(response.content, response.content_type, f"papers.pdf {number}")
        self.require(
            math.ceil(copies / 2) <= pages <= copies,
            f"选票 PDF 有 {pages} 页，印 {copies} 张",
            f"the papers PDF has {pages} pages for {copies} copies",
        )
        self.save(f"papers-round{number}.pdf", response.content)
        self.out.print(f"  印制选票 / papers printed: {copies} 张 / copies, {pages} 页 / pages PDF")

    def scan(self, round_id: int, payload: str, earlier: list[str]) -> None:
        """The tablets check the paper's QR code; a paper of an earlier round is refused (P1)."""
        teller = self.one(Role.teller).api
        verdict = teller.post(f"/api/rounds/{round_id}/scan", {"payload": payload})
        self.require(
            verdict["verdict"] == "this_round",
            "本轮选票的二维码未被认可",
            "this round's QR code was not accepted",
        )
        if earlier:
            refused = teller.post(
                f"/api/rounds/{round_id}/scan", {"payload": earlier[-1]}, expect=422
            )
            self.require(
                refused["code"] == "qr_other_round",
                f"上一轮的选票未被识别为其他轮次：{refused['code']}",
                f"a paper of the previous round was not refused as such: {refused['code']}",
            )

    def make_batches(self, round_id: int, plan: RoundPlan) -> list[int]:
        chief_teller = self.one(Role.chief_teller).api
        tellers = self.officials[Role.teller]
        ids: list[int] = []
        for number, batch in enumerate(plan.batches):
            body = {
                "declared_count": len(batch.truth),
                "teller_a_id": tellers[number % len(tellers)].id,
                "teller_b_id": tellers[(number + 1) % len(tellers)].id,  # O3
            }
            ids.append(chief_teller.post(f"/api/rounds/{round_id}/batches", body, expect=201)["id"])
        return ids

    def enter(
        self,
        number: int,
        candidates: list[str],
        payload: str,
        plan: RoundPlan,
        batch_ids: list[int],
    ) -> None:
        """Two tablets at once: tablet 1 enters pass A of every batch, tablet 2 pass B, each as the
        batch's teller of that pass; neither sees the other's entries."""
        tellers = self.officials[Role.teller]
        failures: list[BaseException] = []

        def tablet(side: str, bar: Progress, task: TaskID) -> None:
            connections = {t.id: t.api.as_token(t.api.token) for t in tellers}
            try:
                for index, (batch, batch_id) in enumerate(
                    zip(plan.batches, batch_ids, strict=True)
                ):
                    offset = 0 if side == "a" else 1
                    api = connections[tellers[(index + offset) % len(tellers)].id]
                    records = batch.pass_a if side == "a" else batch.pass_b
                    for n, record in enumerate(records):
                        body = record.body(candidates) | {
                            "idempotency_key": f"r{number}-b{batch_id}-{side}-{n}",
                            "qr_payload": payload,
                        }
                        answer = api.post(f"/api/batches/{batch_id}/papers", body, expect=201)
                        pending = UNCLEAR in record.marks
                        if answer["pass"] != side or (answer["status"] == "pending") != pending:
                            raise RehearsalFailed(
                                f"批次 {batch_id} 的录入答复不对：{answer}",
                                f"batch {batch_id}: unexpected entry answer {answer}",
                            )
                        bar.advance(task)
            except BaseException as exc:  # re-raised in the main thread
                failures.append(exc)
            finally:
                for api in connections.values():
                    api.close()

        with self.progress() as bar:
            tasks = {
                side: bar.add_task(
                    f"第 {number} 轮 平板{i} / round {number} tablet {i} (pass {side.upper()})",
                    total=self.papers,
                )
                for i, side in ((1, "a"), (2, "b"))
            }
            threads = [
                threading.Thread(target=tablet, args=(side, bar, task), name=f"tablet-{side}")
                for side, task in tasks.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if failures:
            raise failures[0]
        self.check_blind(plan.batches[0], batch_ids[0])

    def check_blind(self, batch: BatchPlan, batch_id: int) -> None:
        """Each teller reads back only their own pass; a teller not on the batch reads nothing."""
        tellers = self.officials[Role.teller]
        path = f"/api/batches/{batch_id}/papers"
        for side, teller in (("a", tellers[0]), ("b", tellers[1])):
            own = teller.api.get(path)
            self.require(
                own["pass"] == side and len(own["papers"]) == len(batch.truth),
                f"计票人读回的不是自己这一遍：{own['pass']}，{len(own['papers'])} 张",
                f"a teller read back another pass: {own['pass']}, {len(own['papers'])} papers",
            )
        refused = tellers[2].api.get(path, expect=403)
        self.require(
            refused["code"] == "not_assigned_to_batch",
            f"未分配的计票人读取批次：{refused['code']}",
            f"a teller not on the batch read it: {refused['code']}",
        )

    def adjudicate(
        self,
        round_id: int,
        number: int,
        candidates: list[str],
        plan: RoundPlan,
        batch_ids: list[int],
    ) -> None:
        """The scrutineers look at the disputed papers and give their final records (C1, P6)."""
        scrutineers = self.officials[Role.scrutineer] + self.officials[Role.chief_scrutineer]
        queue = scrutineers[0].api.get(f"/api/rounds/{round_id}/adjudication")
        listed = {item["batch_id"]: item for item in queue["batches"]}
        disputed = {
            batch_id: batch
            for batch, batch_id in zip(plan.batches, batch_ids, strict=True)
            if batch.disputed
        }
        self.require(
            set(listed) == set(disputed),
            f"第 {number} 轮待裁定批次 {sorted(listed)}，应为 {sorted(disputed)}",
            f"round {number}: batches to adjudicate {sorted(listed)}, expected {sorted(disputed)}",
        )
        for turn, (batch_id, batch) in enumerate(sorted(disputed.items())):
            item = listed[batch_id]
            self.check_queue_item(number, batch_id, item, batch)
            records = [
                {"marks": dict(zip(candidates, p.marks, strict=True)),
                 "write_ins": list(p.write_ins), "void": p.void}
                for p in batch.resolution()
            ]  # fmt: skip
            reason = (
                "监票人核对原票：两遍录入不一致 / scrutineers checked the papers: the passes differ"
                if batch.differences
                else "监票人辨认不清楚的符号（P6）/ scrutineers read the unclear marks (P6)"
            )
            scrutineer = scrutineers[turn % len(scrutineers)].api
            resolved = scrutineer.post(
                f"/api/batches/{batch_id}/resolution", {"records": records, "reason": reason}
            )
            self.require(
                resolved["progress"]["status"] == "reconciled",
                f"批次 {batch_id} 裁定后未核对完成",
                f"batch {batch_id} is not reconciled after the resolution",
            )
        status = self.admin.get(f"/api/rounds/{round_id}/count-status")
        self.require(
            status["ready"] and status["papers_reconciled"] == self.papers,
            f"第 {number} 轮录入未完成：{status}",
            f"round {number}: the count is not complete: {status}",
        )
        self.done.differences += plan.differences
        self.done.unclear += plan.unclear
        self.done.disputed_batches += len(disputed)
        self.done.slipped_batches += sum(1 for b in plan.batches if b.differences)

    def check_queue_item(
        self, number: int, batch_id: int, item: dict[str, Any], batch: BatchPlan
    ) -> None:
        # One slip in one pass: one record only in that pass, the paper's own only in the other.
        only = (len(item["only_in_pass_a"]), len(item["only_in_pass_b"]))
        self.require(
            item["records_needed"] == batch.differences + batch.unclear
            and len(item["unclear"]) == batch.unclear
            and only == (batch.differences, batch.differences),
            f"第 {number} 轮批次 {batch_id} 的差异与录入的不符：{item}",
            f"round {number} batch {batch_id}: the listed differences are not the slips made: "
            f"{item}",
        )

    def decide_and_certify(
        self, round_id: int, number: int, expected: dict[str, Any]
    ) -> dict[str, Any]:
        chief = self.one(Role.chief_scrutineer).api
        decided = chief.post(f"/api/rounds/{round_id}/decide")
        result: dict[str, Any] = decided["result"]
        differences = _differences(expected, result)
        if differences:
            shown = "; ".join(differences[:3])
            raise RehearsalFailed(
                f"第 {number} 轮服务器的决定与规则引擎对所投选票的计票不一致：{shown}",
                f"round {number}: the server's decision differs from the rules engine's count of "
                f"the papers as marked: {shown}",
            )
        chief.post(f"/api/rounds/{round_id}/sign")
        signed = self.one(Role.scrutineer).api.post(f"/api/rounds/{round_id}/sign")
        self.require(
            signed["certified"] and len(signed["signatures"]) == 2,
            f"第 {number} 轮签字后未确认",
            f"round {number} is not certified after two signatures",
        )
        self.one(Role.presidium).api.post(f"/api/rounds/{round_id}/release")
        return result

    def report(self, round_id: int, number: int) -> None:
        response = self.one(Role.presidium).api.call("GET", f"/api/rounds/{round_id}/report.pdf")
        self.pdf_pages(response.content, response.content_type, f"report.pdf {number}")
        self.save(f"report-round{number}.pdf", response.content)

    def show_round(self, result: dict[str, Any], plan: RoundPlan) -> None:
        papers = result["papers"]
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(papers["invalid_by_rule"].items()))
        threshold = result["majority"]["threshold"]
        self.out.print(
            f"  录入 / entered: {len(plan.batches)} 批 / batches, 两遍盲录 / two blind passes; "
            f"注入差异 / injected differences {plan.differences}, "
            f"不清楚的符号 / unclear marks {plan.unclear} → 监票人裁定 / resolved by scrutineers"
        )
        self.out.print(
            f"  有效 / valid {papers['valid']}, 无效 / invalid {papers['invalid']}"
            + (f" ({rules})" if rules else "")
            + f"; 过半数 / majority ≥ {threshold}"
        )
        for tally in result["tallies"]:
            mark = " ✓" if tally["name"] in result["elected"] else ""
            written = " (另选他人 / write-in)" if tally["write_in"] else ""
            self.out.print(
                f"    {tally['name']}{written}: 赞成 / yes {tally['yes']}, 不赞成 / no "
                f"{tally['no']}, 弃权 / abstain {tally['abstain']}{mark}"
            )
        elected = "、".join(result["elected"]) or "—"
        following = result["next_round"]
        then = ""
        if following is not None:
            then = (
                f"; 下一轮 / next: {KIND_ZH[following['kind']]} / {following['kind']}, "
                f"{following['seats']} 名 / seats: {'、'.join(following['candidates'])}"
            )
        self.out.print(
            f"  决定并确认 / decided and certified: 当选 / elected {elected}"
            f" ({result['round']['outcome']}){then}"
        )

    # ------------------------------------------------------------ the end: result and record

    def finish(self, election_id: int) -> None:
        presidium = self.one(Role.presidium).api
        outcome = presidium.get(f"/api/elections/{election_id}/result")
        expected = [
            (name, round_["number"])
            for round_, result in self.done.rounds
            for name in result["elected"]
        ]
        server = [(e["name"], e["round"]) for e in outcome["elected"]]
        self.require(
            outcome["complete"] and server == expected and len(server) == SEATS,
            f"选举结果 {server} 与各轮决定 {expected} 不符或未选满",
            f"the election's result {server} is not the rounds' {expected}, or seats are open",
        )
        directory = self.download_record(election_id)
        self.verify_record(directory, election_id, server)
        self.out.print(
            f"选举结果 / result — {outcome['title']}（{outcome['seats']} 名 / seats, "
            f"{len(self.done.rounds)} 轮 / rounds）:"
        )
        self.out.print(
            "  当选 / elected: "
            + "、".join(f"{name}（第 {n} 轮 / round {n}）" for name, n in server)
        )
        self.out.print(
            "  与规则引擎对所投选票的独立计票一致 / matches the independent recount of the papers "
            "as marked (app.rules)"
        )

    def download_record(self, election_id: int) -> Path:
        auditor = self.one(Role.auditor).api
        response = auditor.call("GET", f"/api/elections/{election_id}/record")
        directory = self.export if self.export is not None else self.workdir / "record"
        directory.mkdir(parents=True, exist_ok=True)
        try:
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                for name in (EVENTS_FILE, MANIFEST_FILE):
                    (directory / name).write_bytes(archive.read(name))
        except (zipfile.BadZipFile, KeyError) as exc:
            raise RehearsalFailed(
                f"选举记录不是有效的 zip：{exc}", f"the record is not a valid zip: {exc}"
            ) from exc
        return directory

    def verify_record(
        self, directory: Path, election_id: int, elected: list[tuple[str, int]]
    ) -> None:
        """The auditor's offline verify (``jipiao audit verify``) on the downloaded record."""
        checked = check_record(directory)
        problem = checked.problem
        replay = None if problem is not None else replay_rounds(checked.events)
        if replay is not None:
            problem = replay.problem
        if problem is not None:
            raise RehearsalFailed(
                f"离线核验不一致：{problem.where}：{problem.message_zh}",
                f"the offline verify disagrees: {problem.where}: {problem.message_en}",
            )
        assert replay is not None
        replayed = replay.elected_by_election().get(election_id, [])
        self.require(
            replayed == elected and replay.decisions_checked == len(self.done.rounds),
            f"离线重新计票的当选名单 {replayed} 与服务器 {elected} 不一致",
            f"the offline recount elects {replayed}, the server {elected}",
        )
        kinds = Counter(stored.event.type for stored in checked.events)
        self.require(
            kinds["batch.discrepancy"] == self.done.slipped_batches
            and kinds["batch.resolved"] == self.done.disputed_batches,
            f"记录中的差异事件数不符：{dict(kinds)}",
            f"the record's discrepancy events do not match the slips made: {dict(kinds)}",
        )
        where = str(directory) if self.export is not None else "(临时 / temporary)"
        self.out.print(
            f"选举记录 / election record: {where}, {len(checked.events)} events, "
            f"签名公钥 / signed by {checked.public_key[:16]}…"
        )
        self.out.print(
            f"离线核验一致 / offline verify agrees: 哈希链与签名完好 / chain and signature intact; "
            f"{replay.decisions_checked} 轮重新计票一致 / rounds recounted alike; "
            f"两遍不一致 / discrepancies {kinds['batch.discrepancy']} "
            f"(注入 / injected {self.done.differences}), "
            f"待裁定 / adjudications {kinds['batch.needs_adjudication']}, "
            f"已裁定 / resolved {kinds['batch.resolved']} "
            f"(不清楚的符号 / unclear marks {self.done.unclear})"
        )

    # ------------------------------------------------------------ helpers

    def close(self) -> None:
        self.admin.close()
        for officials in self.officials.values():
            for official in officials:
                official.api.close()

    def require(self, holds: bool, message_zh: str, message_en: str) -> None:
        if not holds:
            raise RehearsalFailed(message_zh, message_en)

    def pdf_pages(self, content: bytes, content_type: str, what: str) -> int:
        import pikepdf

        self.require(
            content_type == "application/pdf" and content.startswith(b"%PDF-"),
            f"{what} 不是 PDF（{content_type}）",
            f"{what} is not a PDF ({content_type})",
        )
        try:
            with pikepdf.open(io.BytesIO(content)) as pdf:
                return len(pdf.pages)
        except pikepdf.PdfError as exc:
            raise RehearsalFailed(
                f"{what} 无法打开：{exc}", f"{what} cannot be opened: {exc}"
            ) from exc

    def save(self, name: str, content: bytes) -> None:
        if self.export is not None:
            self.export.mkdir(parents=True, exist_ok=True)
            (self.export / name).write_bytes(content)

    @contextmanager
    def progress(self) -> Iterator[Progress]:
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
            disable=not self.err.is_terminal,
        )
        with bar:
            yield bar


def _differences(expected: Any, actual: Any, path: str = "result") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            found += _differences(expected.get(key), actual.get(key), f"{path}.{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        found = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            named = isinstance(e, dict) and isinstance(a, dict) and e.get("name") == a.get("name")
            label = f"{path}[{e['name']}]" if named and "name" in e else f"{path}[{index}]"
            found += _differences(e, a, label)
        return found
    if expected != actual:
        return [f"{path}: {actual!r} (server), {expected!r} (expected)"]
    return []


def rehearse(*, papers: int, export: Path | None, seed: int) -> int:
    """Run the rehearsal; the exit code (0 ok, 1 a problem found, 2 bad usage)."""
    out = Console(highlight=False, soft_wrap=True, markup=False)
    err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    if not MIN_PAPERS <= papers <= MAX_PAPERS:
        err.print(f"error: --papers: must be between {MIN_PAPERS} and {MAX_PAPERS}")
        return EXIT_BAD_USAGE
    if export is not None and export.exists() and not export.is_dir():
        err.print(f"error: --export: {export} is not a directory")
        return EXIT_BAD_USAGE
    started = time.perf_counter()
    out.print(
        f"jipiao 演练 / rehearsal: {papers} 张选票 / papers, seed {seed}, "
        "临时 SQLite 数据库 / temporary SQLite database"
    )
    try:
        with tempfile.TemporaryDirectory(prefix="jipiao-rehearse-") as tmp:
            workdir = Path(tmp)
            with temporary_server(workdir) as server:
                out.print(f"服务 / server: {server.base}")
                rehearsal = Rehearsal(
                    server, out, err, papers=papers, seed=seed, export=export, workdir=workdir
                )
                try:
                    rehearsal.run()
                except ApiError as exc:
                    if exc.status >= 500:
                        err.print(server.log_tail())
                    raise
                finally:
                    rehearsal.close()
    except RehearsalFailed as exc:
        err.print(
            f"演练发现问题 / the rehearsal found a problem:\n  {exc.message_zh}\n  {exc.message_en}"
        )
        return EXIT_PROBLEM
    seconds = time.perf_counter() - started
    out.print(f"演练完成 / rehearsal complete: {seconds:.1f} s")
    return 0
