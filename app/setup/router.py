"""HTTP endpoints for setting up a congress. Parse, authorize, call one service, shape the reply."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile, status
from sqlalchemy.orm import Session, sessionmaker

from app import models
from app.auth import deps as auth_deps
from app.auth import roles as auth_roles
from app.auth import service as auth_service
from app.auth.deps import (
    CheckIn,
    ConfirmChanges,
    ManageSetup,
    ReadLedger,
    ReadRoster,
    ReadSetup,
    SettingsDep,
    TokenDep,
)
from app.auth.roles import ROLE_NAMES_ZH, Permission, Role
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, Forbidden, InvalidInput, PayloadTooLarge
from app.names.reasons import explain_places_zh
from app.printing.fonts import find_cjk_fonts
from app.printing.logincards import LoginCard, render_login_cards
from app.reading import reader
from app.rules.profiles import profile_options
from app.settings import Settings
from app.setup import duties, schemas
from app.setup import roster as roster_file
from app.setup import service as setup_service
from app.setup.schemas import Id

router = APIRouter(prefix="/api", tags=["setup 大会设置"], responses=ERROR_RESPONSES)
_manage_setup = auth_deps.require(Permission.manage_setup)


def _manage_setup_unlocked(request: Request, token: auth_deps.TokenDep) -> auth_roles.Principal:
    """``ManageSetup`` found in a read-only transaction of its own: on SQLite the first statement
    of a request's transaction takes the database's write lock (BEGIN IMMEDIATE), which must not
    be held while a roster file is parsed."""
    with reader(request.app).begin() as read:
        return _manage_setup(auth_service.session_principal(read, token=token))


ManageSetupUnlocked = Annotated[auth_roles.Principal, Depends(_manage_setup_unlocked)]


def _congress_read(session: SessionDep, congress: models.Congress) -> schemas.CongressRead:
    attendance = setup_service.get_attendance(session, congress_id=congress.id)
    return schemas.CongressRead(
        id=congress.id,
        name=congress.name,
        delegates_total=congress.delegates_total,
        starts_on=congress.starts_on,
        ends_on=congress.ends_on,
        roster_count=attendance.roster_count,
        present=attendance.present,
        created_at=congress.created_at,
    )


def _attendance_read(session: SessionDep, congress_id: int) -> schemas.AttendanceRead:
    attendance = setup_service.get_attendance(session, congress_id=congress_id)
    return schemas.AttendanceRead(
        congress_id=congress_id,
        delegates_total=attendance.delegates_total,
        roster_count=attendance.roster_count,
        present=attendance.present,
        congress_quorum=schemas.QuorumRead(
            required=attendance.congress_quorum_required, met=attendance.congress_quorum_met
        ),
        elections=[
            schemas.ElectionQuorumLineRead(
                election_id=line.election_id,
                title=line.title,
                quorum=line.quorum,
                strict=line.strict,
                required=line.required,
                met=line.met,
            )
            for line in setup_service.quorum_lines(session, attendance=attendance)
        ],
        delegations=[
            schemas.DelegationAttendanceRead(
                delegation=d.delegation, present=d.present, roster_count=d.roster_count
            )
            for d in setup_service.attendance_by_delegation(session, congress_id=congress_id)
        ],
    )


def _delegate_read(delegate: models.Delegate) -> schemas.DelegateRead:
    return schemas.DelegateRead(
        id=delegate.id,
        name=delegate.name,
        delegation=delegate.delegation,
        student_id=delegate.student_id,
        present=delegate.present,
    )


def _slate_read(slate: setup_service.SlateCheck) -> schemas.SlateRead:
    return schemas.SlateRead(
        ok=slate.ok,
        candidates=slate.candidates,
        seats=slate.seats,
        allow_uncontested=slate.allow_uncontested,
        code=slate.code,
        message_zh=slate.message_zh,
        message_en=slate.message_en,
    )


def _staffing_read(staffing: setup_service.Staffing) -> schemas.StaffingRead:
    return schemas.StaffingRead(
        ok=staffing.ok,
        required={r.value: n for r, n in staffing.required.items()},
        actual={r.value: n for r, n in staffing.actual.items()},
        problems=staffing.problems,
    )


def _election_read(session: SessionDep, election: models.Election) -> schemas.ElectionRead:
    return schemas.ElectionRead(
        id=election.id,
        congress_id=election.congress_id,
        title=election.title,
        seats=election.seats,
        profile=profile_options(setup_service.election_profile(election)),
        slate=_slate_read(setup_service.check_slate(session, election=election)),
    )


_official_read = duties.official_read


# ---------------------------------------------------------------- congress


@router.post(
    "/congresses",
    status_code=status.HTTP_201_CREATED,
    summary="创建大会 / create a congress",
)
def create_congress(
    body: schemas.CongressCreate, session: SessionDep, actor: ManageSetup
) -> schemas.CongressRead:
    if actor.congress_id is not None:
        raise Forbidden(
            "admin_token_required",
            "只有管理员令牌可以创建新的大会",
            "only the admin token can create a congress",
        )
    congress = setup_service.create_congress(
        session,
        actor=actor,
        name=body.name,
        delegates_total=body.delegates_total,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
    )
    return _congress_read(session, congress)


@router.get("/congresses", summary="大会列表 / list congresses")
def list_congresses(session: SessionDep, actor: ReadSetup) -> list[schemas.CongressRead]:
    congresses = setup_service.list_congresses(session, only_id=actor.congress_id)
    return [_congress_read(session, c) for c in congresses]


@router.get("/congresses/{congress_id}", summary="大会详情 / one congress")
def get_congress(congress_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.CongressRead:
    actor.ensure_congress(congress_id)
    return _congress_read(session, setup_service.get_congress(session, congress_id=congress_id))


@router.patch("/congresses/{congress_id}", summary="修改大会 / change a congress")
def update_congress(
    congress_id: Id, body: schemas.CongressUpdate, session: SessionDep, actor: ManageSetup
) -> schemas.CongressRead:
    actor.ensure_congress(congress_id)
    congress = setup_service.update_congress(
        session, actor=actor, congress_id=congress_id, changes=body.model_dump(exclude_unset=True)
    )
    return _congress_read(session, congress)


# ---------------------------------------------------------------- roster and check-in


def _upload(file: UploadFile, settings: Settings) -> bytes:
    limit = settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            "file_too_large",
            f"文件过大（上限 {limit} 字节）",
            f"the file is too large (limit {limit} bytes)",
            field="file",
        )
    return data


@router.post(
    "/congresses/{congress_id}/roster/preview",
    summary="预览代表名单（不导入）/ preview a roster file (nothing is saved)",
    description=(
        "与导入相同的读取和检查：列出将导入的各行，以及每一处错误（行号、列、原因）。不保存任何"
        "内容，不记录事件。确认无误后用 `POST /api/congresses/{id}/roster` 导入同一文件。\n\n"
        "The import's own reading and checks: the rows it would add and every refused row (row, "
        "column, reason). Nothing is saved and no event is recorded; import the same file with "
        "`POST /api/congresses/{id}/roster` once it is right."
    ),
)
def preview_roster(
    congress_id: Id,
    file: Annotated[UploadFile, File(description="roster.csv 或 roster.xlsx")],
    request: Request,
    actor: ManageSetupUnlocked,
    settings: SettingsDep,
) -> schemas.RosterPreviewRead:
    actor.ensure_congress(congress_id)
    reading = roster_file.read_roster(_upload(file, settings), filename=file.filename or "")
    with reader(request.app).begin() as session:
        preview = setup_service.preview_roster(session, congress_id=congress_id, reading=reading)
    return schemas.RosterPreviewRead(
        file_format=reading.file_format,
        encoding=reading.encoding,
        rows=[
            schemas.RosterRowRead(
                row=row.row, name=row.name, delegation=row.delegation, student_id=row.student_id
            )
            for row in preview.rows
        ],
        errors=preview.errors,
        importable=not preview.errors,
        roster_count=preview.check.roster_count,
        roster_count_after=preview.check.roster_count_after,
        delegates_total=preview.check.delegates_total,
    )


@router.post(
    "/congresses/{congress_id}/roster",
    status_code=status.HTTP_201_CREATED,
    summary="导入代表名单（CSV 或 XLSX）/ import the roster (CSV or XLSX)",
    description=(
        "表头（第 1 行）：姓名、代表团、学号（或 name, delegation, student_id）。CSV 可为 UTF-8"
        "（含 BOM）、GBK/GB18030 或 UTF-16。任何一行有错误则整个文件不导入，并逐行说明错误。\n\n"
        "Header row: name, delegation, student_id (Chinese headers accepted). CSV may be UTF-8 "
        "(BOM or not), GBK/GB18030 or UTF-16. If any row is bad nothing is imported and every "
        "bad row is listed in `errors`."
    ),
)
def import_roster(
    congress_id: Id,
    file: Annotated[UploadFile, File(description="roster.csv 或 roster.xlsx")],
    request: Request,
    actor: ManageSetupUnlocked,
    settings: SettingsDep,
) -> schemas.RosterImportRead:
    # The caller first, then the file, parsed before the write transaction takes the database's
    # write lock (no writer of any congress waits while a file is read); the rows are then written
    # in one transaction.
    actor.ensure_congress(congress_id)
    parsed = roster_file.parse_roster(_upload(file, settings), filename=file.filename or "")
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory.begin() as session:
        total = setup_service.add_roster(
            session, actor=actor, congress_id=congress_id, parsed=parsed
        )
    return schemas.RosterImportRead(
        imported=len(parsed.rows),
        roster_count=total,
        file_format=parsed.file_format,
        encoding=parsed.encoding,
    )


@router.get("/congresses/{congress_id}/delegates", summary="代表名单 / the roster")
def list_delegates(
    congress_id: Id,
    session: SessionDep,
    actor: ReadRoster,
    present: Annotated[bool | None, Query(description="只列出已签到/未签到的代表")] = None,
    q: Annotated[schemas.SearchText | None, Query(description="按姓名、学号或代表团搜索")] = None,
) -> list[schemas.DelegateRead]:
    actor.ensure_congress(congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    delegates = setup_service.list_delegates(
        session, congress_id=congress_id, present=present, search=q
    )
    return [_delegate_read(d) for d in delegates]


@router.delete(
    "/congresses/{congress_id}/delegates/{delegate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="从名单中删除代表 / remove a delegate from the roster",
)
def remove_delegate(
    congress_id: Id, delegate_id: Id, session: SessionDep, actor: ManageSetup
) -> None:
    actor.ensure_congress(congress_id)
    setup_service.remove_delegate(
        session, actor=actor, congress_id=congress_id, delegate_id=delegate_id
    )


@router.post(
    "/congresses/{congress_id}/delegates/{delegate_id}/check-in",
    summary="签到 / check a delegate in",
    description="每位代表只计一次（Q3）。Counted once per delegate (Q3); nothing about papers.",
)
def check_in(
    congress_id: Id, delegate_id: Id, session: SessionDep, actor: CheckIn
) -> schemas.CheckInRead:
    actor.ensure_congress(congress_id)
    delegate = setup_service.set_present(
        session, actor=actor, congress_id=congress_id, delegate_id=delegate_id, present=True
    )
    return schemas.CheckInRead(
        delegate=_delegate_read(delegate), attendance=_attendance_read(session, congress_id)
    )


@router.post(
    "/congresses/{congress_id}/check-in",
    summary="按学号签到 / check in by student id",
    description="签到台扫描或输入学号。The desk scans or types the delegate's student id.",
)
def check_in_by_student_id(
    congress_id: Id, body: schemas.CheckInByStudentId, session: SessionDep, actor: CheckIn
) -> schemas.CheckInRead:
    actor.ensure_congress(congress_id)
    delegate = setup_service.check_in_by_student_id(
        session, actor=actor, congress_id=congress_id, student_id=body.student_id
    )
    return schemas.CheckInRead(
        delegate=_delegate_read(delegate), attendance=_attendance_read(session, congress_id)
    )


@router.post(
    "/congresses/{congress_id}/delegates/{delegate_id}/check-out",
    summary="签退 / check a delegate out",
)
def check_out(
    congress_id: Id, delegate_id: Id, session: SessionDep, actor: CheckIn
) -> schemas.CheckInRead:
    actor.ensure_congress(congress_id)
    delegate = setup_service.set_present(
        session, actor=actor, congress_id=congress_id, delegate_id=delegate_id, present=False
    )
    return schemas.CheckInRead(
        delegate=_delegate_read(delegate), attendance=_attendance_read(session, congress_id)
    )


@router.get(
    "/congresses/{congress_id}/attendance",
    summary="实到人数 / attendance (present count)",
)
def get_attendance(
    congress_id: Id, session: SessionDep, actor: ReadSetup
) -> schemas.AttendanceRead:
    actor.ensure_congress(congress_id)
    return _attendance_read(session, congress_id)


# ---------------------------------------------------------------- elections and candidates


@router.post(
    "/congresses/{congress_id}/elections",
    status_code=status.HTTP_201_CREATED,
    summary="创建选举 / create an election",
)
def create_election(
    congress_id: Id, body: schemas.ElectionCreate, session: SessionDep, actor: ManageSetup
) -> schemas.ElectionRead:
    actor.ensure_congress(congress_id)
    election = setup_service.create_election(
        session,
        actor=actor,
        congress_id=congress_id,
        title=body.title,
        seats=body.seats,
        profile=body.profile,
    )
    return _election_read(session, election)


@router.get("/congresses/{congress_id}/elections", summary="选举列表 / list elections")
def list_elections(
    congress_id: Id, session: SessionDep, actor: ReadSetup
) -> list[schemas.ElectionRead]:
    actor.ensure_congress(congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    return [
        _election_read(session, e)
        for e in setup_service.list_elections(session, congress_id=congress_id)
    ]


@router.get("/elections/{election_id}", summary="选举详情 / one election")
def get_election(election_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.ElectionRead:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    return _election_read(session, election)


@router.patch("/elections/{election_id}", summary="修改选举 / change an election")
def update_election(
    election_id: Id, body: schemas.ElectionUpdate, session: SessionDep, actor: ManageSetup
) -> schemas.ElectionRead:
    actor.ensure_congress(setup_service.get_election(session, election_id=election_id).congress_id)
    election = setup_service.update_election(
        session, actor=actor, election_id=election_id, changes=body.model_dump(exclude_unset=True)
    )
    return _election_read(session, election)


def _candidate_list(session: SessionDep, election: models.Election) -> schemas.CandidateListRead:
    ordered, result = setup_service.sorted_candidates(session, election=election)
    name_order = setup_service.election_profile(election).name_order
    reasons = explain_places_zh([c.name for c in ordered], name_order)
    return schemas.CandidateListRead(
        election_id=election.id,
        name_order=name_order,
        candidates=[
            schemas.CandidateRead(
                id=c.id,
                election_id=c.election_id,
                name=c.name,
                student_id=c.student_id,
                position=position,
                stroke_explanation=reason,
            )
            for position, (c, reason) in enumerate(zip(ordered, reasons, strict=True), start=1)
        ],
        warnings=[
            schemas.NameWarningRead(
                name=w.name, kind=w.kind, message_zh=w.message_zh, message_en=w.message_en
            )
            for w in result.warnings
        ],
    )


@router.get(
    "/elections/{election_id}/readiness",
    summary="能否发票 / may papers be issued now",
    description=(
        "差额（六.4）、工作人员配备（O2）、法定人数（Q1，按当前实到人数）。"
        "Slate (六.4), staffing (O2) and quorum (Q1, from the present count now)."
    ),
)
def get_readiness(election_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.ReadinessRead:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    readiness = setup_service.check_readiness(session, election_id=election_id)
    quorum = readiness.quorum
    return schemas.ReadinessRead(
        election_id=election_id,
        ready=readiness.ready,
        slate=_slate_read(readiness.slate),
        staffing=_staffing_read(readiness.staffing),
        quorum=schemas.ElectionQuorumRead(
            delegates_total=quorum.delegates_total,
            present=quorum.present,
            required=quorum.required,
            met=quorum.met,
        ),
    )


@router.get(
    "/elections/{election_id}/candidates",
    summary="候选人（按姓氏笔画为序）/ candidates in stroke order",
)
def list_candidates(
    election_id: Id, session: SessionDep, actor: ReadSetup
) -> schemas.CandidateListRead:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    return _candidate_list(session, election)


@router.post(
    "/elections/{election_id}/candidates",
    status_code=status.HTTP_201_CREATED,
    summary="添加候选人 / add a candidate",
    description="选举工作人员不得为候选人（O1）。Officials of the count cannot be candidates (O1).",
)
def add_candidate(
    election_id: Id, body: schemas.CandidateCreate, session: SessionDep, actor: ManageSetup
) -> schemas.CandidateListRead:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    setup_service.add_candidate(
        session, actor=actor, election_id=election_id, name=body.name, student_id=body.student_id
    )
    return _candidate_list(session, election)


@router.delete(
    "/elections/{election_id}/candidates/{candidate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除候选人 / remove a candidate",
)
def remove_candidate(
    election_id: Id, candidate_id: Id, session: SessionDep, actor: ManageSetup
) -> None:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    setup_service.remove_candidate(
        session, actor=actor, election_id=election_id, candidate_id=candidate_id
    )


# ---------------------------------------------------------------- officials


@router.get("/congresses/{congress_id}/officials", summary="工作人员 / officials")
def list_officials(
    congress_id: Id, session: SessionDep, actor: ReadSetup
) -> list[schemas.OfficialRead]:
    actor.ensure_congress(congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    return [
        _official_read(o) for o in setup_service.list_officials(session, congress_id=congress_id)
    ]


@router.post(
    "/congresses/{congress_id}/officials",
    status_code=status.HTTP_201_CREATED,
    summary="添加工作人员 / add an official",
    description="候选人不得担任选举工作人员（O1）。A candidate cannot be an official of the count.",
)
def add_official(
    congress_id: Id, body: schemas.OfficialCreate, session: SessionDep, actor: ManageSetup
) -> schemas.OfficialRead:
    actor.ensure_congress(congress_id)
    duties.ensure_alone_allowed(
        session,
        actor=actor,
        congress_id=congress_id,
        action="add",
        role=body.role,
        official_id=None,
    )
    official = setup_service.add_official(
        session,
        actor=actor,
        congress_id=congress_id,
        name=body.name,
        role=body.role,
        student_id=body.student_id,
    )
    return _official_read(official)


@router.delete(
    "/congresses/{congress_id}/officials/{official_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除工作人员 / remove an official",
)
def remove_official(
    congress_id: Id, official_id: Id, session: SessionDep, actor: ManageSetup
) -> None:
    actor.ensure_congress(congress_id)
    official = setup_service.get_official(session, congress_id=congress_id, official_id=official_id)
    duties.ensure_alone_allowed(
        session,
        actor=actor,
        congress_id=congress_id,
        action="remove",
        role=Role(official.role),
        official_id=official_id,
    )
    setup_service.remove_official(
        session, actor=actor, congress_id=congress_id, official_id=official_id
    )


@router.get(
    "/congresses/{congress_id}/staffing",
    summary="工作人员配备检查（O2）/ staffing check (O2)",
)
def get_staffing(congress_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.StaffingRead:
    actor.ensure_congress(congress_id)
    return _staffing_read(setup_service.check_staffing(session, congress_id=congress_id))


@router.post(
    "/congresses/{congress_id}/officials/{official_id}/login-code",
    summary="签发一次性登录码 / issue a one-time login code",
    description=(
        "生成新的一次性登录码（旧码作废），并给出可供平板扫描的二维码地址。登录码只显示这一次。\n\n"
        "A new one-time login code (any earlier one stops working) and the URLs of its QR code. "
        "The code is shown only in this response; only its hash is stored."
    ),
)
def issue_login_code(
    congress_id: Id,
    official_id: Id,
    session: SessionDep,
    actor: ManageSetup,
    settings: SettingsDep,
) -> schemas.LoginCodeRead:
    actor.ensure_congress(congress_id)
    official = setup_service.get_official(session, congress_id=congress_id, official_id=official_id)
    duties.ensure_alone_allowed(
        session,
        actor=actor,
        congress_id=congress_id,
        action="login_code",
        role=Role(official.role),
        official_id=official_id,
    )
    code = duties.issue_login_code(session, actor=actor, official=official)
    return duties.login_code_read(settings, official, code)


@router.post(
    "/congresses/{congress_id}/login-cards",
    summary="打印工作人员登录卡（PDF）/ print login cards (PDF)",
    description=(
        "为选中的每位工作人员签发新的一次性登录码（此前未使用的登录码作废，与单独签发相同，"
        "逐人记录事件），并生成登录卡 PDF：每人一张，写明姓名、职务、大会、登录码和登录二维码，"
        "每张 A4 纸 8 张，有裁切线。投票开始后，为监票、计票人员和主席团成员签发须经主席团确认"
        "（409，不签发任何登录码）。\n\n"
        "Issues a fresh one-time code for each official (any earlier unused code stops working; "
        "one `official.login_code_issued` event each, as for a single code) and returns the "
        "cards as a PDF: name, role, congress, code and login QR code, 8 to an A4 page with cut "
        "lines. Once a round is open, codes for counting, signing and presidium roles need a "
        "presidium member's confirmation (409, nothing issued). No font: 503 `font_missing`, "
        "nothing issued."
    ),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def print_login_cards(
    congress_id: Id,
    body: schemas.LoginCardsCreate,
    session: SessionDep,
    actor: ManageSetup,
    settings: SettingsDep,
) -> Response:
    actor.ensure_congress(congress_id)
    congress = setup_service.get_congress(session, congress_id=congress_id)
    if len(set(body.official_ids)) != len(body.official_ids):
        raise InvalidInput(
            "duplicate_official",
            "同一位工作人员选了两次，每人只打印一张登录卡",
            "an official is listed twice; one card per official",
            field="body.official_ids",
        )
    officials = [
        setup_service.get_official(session, congress_id=congress_id, official_id=official_id)
        for official_id in body.official_ids
    ]
    for official in officials:
        duties.ensure_alone_allowed(
            session,
            actor=actor,
            congress_id=congress_id,
            action="login_code",
            role=Role(official.role),
            official_id=official.id,
        )
    # The font before any code: without it nothing can be printed, and nobody's code may change.
    fonts = find_cjk_fonts()
    cards = [
        LoginCard(
            name=official.name,
            role_zh=ROLE_NAMES_ZH[Role(official.role)],
            congress=congress.name,
            code=code,
            login_url=auth_service.login_url(settings, code),
            site=f"{settings.resolved_public_url()}/",
            valid_days=auth_service.LOGIN_CODE_DAYS,
        )
        for official in officials
        for code in [duties.issue_login_code(session, actor=actor, official=official)]
    ]
    return Response(
        render_login_cards(cards, fonts),
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="login-cards.pdf"',
            # one-time codes: never kept by a browser's or a proxy's cache
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------- changes of officials (app.setup.duties)


@router.post(
    "/congresses/{congress_id}/official-changes",
    status_code=status.HTTP_201_CREATED,
    summary="申请变更工作人员（须主席团确认）/ request a change of officials",
    description=(
        "投票开始后，添加、删除工作人员或为监票、计票人员及主席团成员签发登录码，须由一名大会"
        "主席团成员确认后生效。\n\nOnce a round is open, adding or removing an official and "
        "issuing a login code for a counting, signing or presidium role take effect only when a "
        "presidium member confirms (`POST /api/official-changes/{id}/confirm`)."
    ),
)
def request_official_change(
    congress_id: Id, body: duties.OfficialChangeCreate, session: SessionDep, actor: ManageSetup
) -> duties.OfficialChangeRead:
    actor.ensure_congress(congress_id)
    change = duties.request_change(
        session,
        actor=actor,
        congress_id=congress_id,
        action=body.action,
        official_id=body.official_id,
        name=body.name,
        role=body.role,
        student_id=body.student_id,
    )
    return duties.change_read(change)


@router.get(
    "/congresses/{congress_id}/official-changes",
    summary="工作人员变更申请 / requested changes of officials",
)
def list_official_changes(
    congress_id: Id, session: SessionDep, actor: ReadLedger
) -> list[duties.OfficialChangeRead]:
    actor.ensure_congress(congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    return [duties.change_read(c) for c in duties.list_changes(session, congress_id=congress_id)]


@router.post(
    "/official-changes/{change_id}/confirm",
    summary="主席团确认工作人员变更 / the presidium confirms a change of officials",
    description=(
        "由一名大会主席团成员用本人的登录确认（不能确认关于本人的变更）；变更随即生效。"
        "签发的登录码只在这里显示给确认人。\n\nA presidium member confirms with their own "
        "session (not a change about themselves); the change is performed and recorded "
        "(`official.change_confirmed`). A login code is shown here, to them only."
    ),
)
def confirm_official_change(
    change_id: Id,
    session: SessionDep,
    token: TokenDep,
    actor: ConfirmChanges,
    settings: SettingsDep,
) -> duties.OfficialChangeConfirmed:
    done = duties.confirm_change(session, actor=actor, token=token, change_id=change_id)
    return duties.OfficialChangeConfirmed(
        change=duties.change_read(done.change),
        official=None if done.official is None else duties.official_read(done.official),
        login_code=(
            None
            if done.code is None or done.official is None
            else duties.login_code_read(settings, done.official, done.code)
        ),
    )
