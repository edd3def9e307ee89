"""The demo congress, shaped like the seed: 189 delegates, 主席团成员 3 seats / 5 candidates,
the O2 officials (1 总监票人, 1 总计票人, 2 监票人, 5 计票人) plus a presidium and an auditor login.
Names are generated, realistic and deterministic; officials are never candidates (O1)."""

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal, Role
from app.setup import duties
from app.setup import service as setup_service

DEMO_CONGRESS_NAME = "信息工程学院第五次学生代表大会（演示）"
DEMO_ELECTION_TITLE = "主席团成员"
DEMO_DELEGATES = 189
DELEGATIONS = ("计算机系代表团", "电子系代表团", "通信系代表团", "自动化系代表团", "软件系代表团")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红玲芬燕彬鹏辉晨欣怡涵浩宇轩博文雨思佳然"
    "琪嘉天宁凯锐婷雪琳颖昊阳帆晓峰毅健晶璐瑶倩悦诗铭泽睿哲航"
)


def demo_names(count: int, *, seed: int = 5) -> list[str]:
    """``count`` distinct, plausible Chinese names (one or two given-name characters)."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        given_length = 1 if rng.random() < 0.3 else 2
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(given_length))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


DEMO_OFFICIALS: tuple[Role, ...] = (
    Role.chief_scrutineer,
    Role.chief_teller,
    Role.scrutineer,
    Role.scrutineer,
    Role.teller,
    Role.teller,
    Role.teller,
    Role.teller,
    Role.teller,
    Role.presidium,
    Role.auditor,
)


@dataclass(frozen=True, slots=True)
class DemoCongress:
    congress_id: int
    election_id: int
    created: bool


def ensure_demo_congress(session: Session) -> DemoCongress:
    """Create the demo congress unless it exists (found by its name)."""
    existing = session.scalars(
        select(models.Congress).where(models.Congress.name == DEMO_CONGRESS_NAME)
    ).first()
    if existing is not None:
        election = session.scalars(
            select(models.Election).where(models.Election.congress_id == existing.id)
        ).first()
        assert election is not None, "the demo congress has no election"
        return DemoCongress(existing.id, election.id, created=False)
    admin = Principal(role=Role.admin, official_id=None, congress_id=None)
    congress = setup_service.create_congress(
        session,
        actor=admin,
        name=DEMO_CONGRESS_NAME,
        delegates_total=DEMO_DELEGATES,
        starts_on=None,
        ends_on=None,
    )
    names = demo_names(DEMO_DELEGATES)
    lines = ["姓名,代表团,学号"] + [
        f"{name},{DELEGATIONS[i % len(DELEGATIONS)]},2026{i + 1:04d}"
        for i, name in enumerate(names)
    ]
    setup_service.import_roster(
        session,
        actor=admin,
        congress_id=congress.id,
        data="\n".join(lines).encode("utf-8"),
        filename="demo.csv",
    )
    election = setup_service.create_election(
        session,
        actor=admin,
        congress_id=congress.id,
        title=DEMO_ELECTION_TITLE,
        seats=3,
        profile={},
    )
    # Candidates: delegates 1–5; officials: the next 11 delegates (never a candidate, O1).
    for i in range(5):
        setup_service.add_candidate(
            session,
            actor=admin,
            election_id=election.id,
            name=names[i],
            student_id=f"2026{i + 1:04d}",
        )
    for offset, role in enumerate(DEMO_OFFICIALS, start=5):
        setup_service.add_official(
            session,
            actor=admin,
            congress_id=congress.id,
            name=names[offset],
            role=role,
            student_id=f"2026{offset + 1:04d}",
        )
    return DemoCongress(congress.id, election.id, created=True)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: Role
    name: str
    code: str


def issue_demo_logins(session: Session, *, congress_id: int) -> list[DemoLogin]:
    """Fresh one-time login codes for every official of the demo congress (old codes stop)."""
    admin = Principal(role=Role.admin, official_id=None, congress_id=None)
    logins: list[DemoLogin] = []
    for official in setup_service.list_officials(session, congress_id=congress_id):
        # The operator's own start of the demo, recorded like the secretariat's issuance.
        code = duties.issue_login_code(session, actor=admin, official=official)
        logins.append(DemoLogin(Role(official.role), official.name, code))
    session.flush()
    return logins
