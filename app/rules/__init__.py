"""The election rules engine (RULES.md): pure Python, exact arithmetic, every decision traced.

Inputs are a round's definition, its attendance figures and its paper records; outputs are each
paper's validity, the tallies, the decision and a trace citing rule ids. No web, no database, no
I/O: the live service and the auditor's offline replay call the same functions.
"""

from app.rules.decide import (
    Majority,
    NextRound,
    Outcome,
    QuorumCheck,
    QuorumNotMet,
    RoundResult,
    RoundVoid,
    SeatsFilled,
    SeatsLeftVacant,
    SupplementaryNeeded,
    TieRoundNeeded,
    check_quorum,
    count_round,
    majority_threshold,
    required_present,
    slate_size,
)
from app.rules.model import (
    Attendance,
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundInputError,
    RoundKind,
    RuleId,
    TraceEntry,
    VoidRule,
    WriteIn,
    normalize_name,
    paper_order,
)
from app.rules.profiles import SEED_PROFILE, Profile, ProfileError, parse_profile, profile_options
from app.rules.tally import Copies, PaperCounts, PersonTally, Tally, tally_papers
from app.rules.validity import PaperJudgement, judge_paper

__all__ = [
    "SEED_PROFILE",
    "Attendance",
    "Copies",
    "Majority",
    "Mark",
    "NextRound",
    "Outcome",
    "PaperCounts",
    "PaperJudgement",
    "PaperRecord",
    "PersonTally",
    "Profile",
    "ProfileError",
    "QuorumCheck",
    "QuorumNotMet",
    "RoundDefinition",
    "RoundInputError",
    "RoundKind",
    "RoundResult",
    "RoundVoid",
    "RuleId",
    "SeatsFilled",
    "SeatsLeftVacant",
    "SupplementaryNeeded",
    "Tally",
    "TieRoundNeeded",
    "TraceEntry",
    "VoidRule",
    "WriteIn",
    "check_quorum",
    "count_round",
    "judge_paper",
    "majority_threshold",
    "normalize_name",
    "paper_order",
    "parse_profile",
    "profile_options",
    "required_present",
    "slate_size",
    "tally_papers",
]
