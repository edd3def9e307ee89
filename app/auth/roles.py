"""Roles and what each may do: the role matrix (``ROLE_PERMISSIONS``) and the caller
(``Principal``). tests/test_auth_matrix.py proves the matrix, endpoint by endpoint."""

from dataclasses import dataclass
from enum import StrEnum

from app.errors import Forbidden


class Role(StrEnum):
    admin = "admin"  # 大会秘书处
    chief_scrutineer = "chief_scrutineer"  # 总监票人
    scrutineer = "scrutineer"  # 监票人
    chief_teller = "chief_teller"  # 总计票人
    teller = "teller"  # 计票人
    presidium = "presidium"  # 大会主席团
    auditor = "auditor"  # 审计人员


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.admin: "大会秘书处",
    Role.chief_scrutineer: "总监票人",
    Role.scrutineer: "监票人",
    Role.chief_teller: "总计票人",
    Role.teller: "计票人",
    Role.presidium: "大会主席团",
    Role.auditor: "审计人员",
}

# O1: 所有选举工作人员必须是非候选人 — these roles can never be candidates, nor candidates them.
COUNTING_ROLES: frozenset[Role] = frozenset(
    {Role.chief_scrutineer, Role.scrutineer, Role.chief_teller, Role.teller}
)


class Permission(StrEnum):
    read_setup = "read_setup"  # congress, elections, candidates, officials, attendance count
    read_roster = "read_roster"  # delegates' names and student ids
    manage_setup = "manage_setup"  # congress, roster, elections, candidates, officials
    check_in = "check_in"  # 签到 desk: check delegates in and out
    read_ledger = "read_ledger"  # the event chain and its verification
    # Used by the counting features (papers, batches, adjudication, results):
    enter_papers = "enter_papers"
    manage_batches = "manage_batches"
    adjudicate = "adjudicate"
    certify = "certify"
    release_results = "release_results"
    # Check a paper's QR code, look up roster names for write-ins (tablets, scrutineers, admin):
    check_papers = "check_papers"
    # Per-paper records (the marks of each paper: the record bundle, the CVR, the records in the
    # event chain): the auditor and the scrutineers only. A rare pattern of marks can serve as a
    # signature that shows how one delegate voted (docs/service.md, "Per-paper records").
    read_papers = "read_papers"
    # Confirm a change of officials once voting has begun (app/setup/duties.py): the presidium.
    confirm_changes = "confirm_changes"


# What each permission lets a person do, as a 403 names it (计票人无权签字确认).
PERMISSION_ZH: dict[Permission, str] = {
    Permission.read_setup: "查看大会设置",
    Permission.read_roster: "查看代表名单",
    Permission.manage_setup: "管理大会设置",
    Permission.check_in: "办理签到",
    Permission.read_ledger: "查看事件记录",
    Permission.enter_papers: "录入选票",
    Permission.manage_batches: "管理批次",
    Permission.adjudicate: "裁定",
    Permission.certify: "签字确认",
    Permission.release_results: "公布选举结果",
    Permission.check_papers: "核验选票",
    Permission.read_papers: "查看逐张选票记录",
    Permission.confirm_changes: "确认工作人员变更",
}


_READ = {Permission.read_setup}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(
        {
            Permission.read_setup,
            Permission.read_roster,
            Permission.manage_setup,
            Permission.check_in,
            Permission.read_ledger,
            Permission.check_papers,
            Permission.manage_batches,
        }
    ),
    Role.chief_scrutineer: frozenset(
        _READ
        | {
            Permission.read_ledger,
            Permission.read_papers,
            Permission.adjudicate,
            Permission.certify,
            Permission.check_papers,
        }
    ),
    Role.scrutineer: frozenset(
        _READ
        | {
            Permission.read_ledger,
            Permission.read_papers,
            Permission.adjudicate,
            Permission.certify,
            Permission.check_papers,
        }
    ),
    Role.chief_teller: frozenset(
        _READ | {Permission.enter_papers, Permission.manage_batches, Permission.check_papers}
    ),
    Role.teller: frozenset(_READ | {Permission.enter_papers, Permission.check_papers}),
    Role.presidium: frozenset(
        _READ
        | {
            Permission.read_roster,
            Permission.read_ledger,
            Permission.release_results,
            Permission.confirm_changes,
        }
    ),
    Role.auditor: frozenset(
        _READ | {Permission.read_roster, Permission.read_ledger, Permission.read_papers}
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a role, and (for officials) their id and congress."""

    role: Role
    official_id: int | None
    congress_id: int | None  # None: the admin token, valid for every congress

    def ensure_congress(self, congress_id: int) -> None:
        """An official may act only within their own congress."""
        if self.congress_id is not None and self.congress_id != congress_id:
            raise Forbidden(
                "other_congress",
                "您的登录仅适用于本人所在的大会",
                "your session is valid only for your own congress",
            )


def ensure_permission(principal: Principal, permission: Permission) -> None:
    """403 unless the principal's role holds ``permission``."""
    if permission not in ROLE_PERMISSIONS[principal.role]:
        raise Forbidden(
            "forbidden",
            f"{ROLE_NAMES_ZH[principal.role]}无权{PERMISSION_ZH[permission]}",
            f"the role {principal.role} may not do this ({permission})",
        )
