"""Rules profiles: the options of RULES.md, parsed from strings and booleans.

The default profile is the seed procedure (``seed``). Every option is spelled as RULES.md spells it;
values are strings or booleans exactly as written there, e.g. ``{"quorum": "2/3"}``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Literal, get_args

from app.names import DEFAULT_NAME_ORDER, NameOrder

MajorityBase = Literal["present", "delegates_total", "collected", "valid_papers"]
OvercountBase = Literal["present", "issued"]
SlateSize = Literal["plus_one", "ratio_20"]
SupplementaryPool = Literal["all_persons", "listed_only"]
TiePolicy = Literal["tie_round", "vacant"]


class ProfileError(ValueError):
    """An option of a rules profile is unknown or has a value RULES.md does not allow."""

    def __init__(self, option: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"profile.{option}: {message_en}")
        self.option = option
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True, slots=True)
class Profile:
    """One election's rule options; the defaults are the seed procedure's."""

    name_order: NameOrder = DEFAULT_NAME_ORDER  # B1
    quorum: Fraction = Fraction(4, 5)  # Q1: 五分之四以上
    quorum_strict: bool = False  # Q1: true for texts saying 超过五分之四
    overcount_base: OvercountBase = "present"  # I2: 收到选票总数多于实到会议代表人数
    majority_base: MajorityBase = "present"  # M1: 超过实到会议代表半数
    over_selection_voids: bool = True  # P3
    empty_paper_valid: bool = True  # P5
    unclear_voids_paper: bool = False  # P6
    slate_size: SlateSize = "plus_one"  # M6
    supplementary_pool: SupplementaryPool = "all_persons"  # M6
    tie_policy: TiePolicy = "tie_round"  # M7
    allow_uncontested: bool = False  # 六.4: 差额选举 unless the procedure allows 等额
    double_entry: bool = True  # O3: blind double entry of every batch


SEED_PROFILE = Profile()

_CHOICES: dict[str, tuple[str, ...]] = {
    "name_order": get_args(NameOrder),
    "overcount_base": get_args(OvercountBase),
    "majority_base": get_args(MajorityBase),
    "slate_size": get_args(SlateSize),
    "supplementary_pool": get_args(SupplementaryPool),
    "tie_policy": get_args(TiePolicy),
}
_BOOLEANS = frozenset(
    {
        "quorum_strict",
        "over_selection_voids",
        "empty_paper_valid",
        "unclear_voids_paper",
        "allow_uncontested",
        "double_entry",
    }
)
OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Profile))


def parse_quorum(value: object) -> Fraction:
    """Parse a quorum fraction written as ``"a/b"`` (e.g. ``"4/5"``), exactly; 0 < q ≤ 1.

    A float (``0.8``) is refused: thresholds are exact fractions, never binary floats.
    """
    if not isinstance(value, str) or "/" not in value:
        raise ProfileError(
            "quorum",
            '法定人数比例应写成分数，如 "4/5"',
            'quorum must be a fraction written as a string, e.g. "4/5"',
        )
    numerator, _, denominator = value.partition("/")
    try:
        quorum = Fraction(int(numerator.strip()), int(denominator.strip()))
    except (ValueError, ZeroDivisionError):
        raise ProfileError(
            "quorum", f"无法解析法定人数比例 {value!r}", f"cannot parse quorum {value!r}"
        ) from None
    if not 0 < quorum <= 1:
        raise ProfileError(
            "quorum", "法定人数比例应大于 0 且不大于 1", "quorum must be > 0 and ≤ 1"
        )
    return quorum


def parse_profile(options: Mapping[str, object], base: Profile = SEED_PROFILE) -> Profile:
    """Apply ``options`` to ``base``; every unknown option or value is a ProfileError."""
    changes: dict[str, object] = {}
    for option, value in options.items():
        if option == "quorum":
            changes[option] = parse_quorum(value)
        elif option in _BOOLEANS:
            if not isinstance(value, bool):
                raise ProfileError(
                    option, "该选项的值应为是或否（布尔值）", "the value must be true or false"
                )
            changes[option] = value
        elif option in _CHOICES:
            allowed = _CHOICES[option]
            if value not in allowed:
                raise ProfileError(
                    option,
                    "取值不是该选项允许的值",
                    f"the value must be one of {', '.join(allowed)}",
                )
            changes[option] = value
        else:
            raise ProfileError(
                option,
                f"未知的规则选项 {option!r}",
                f"unknown rules option {option!r}; known: {', '.join(OPTION_NAMES)}",
            )
    return replace(base, **changes)  # type: ignore[arg-type]


def profile_options(profile: Profile) -> dict[str, str | bool]:
    """The profile as RULES.md spells it (the inverse of ``parse_profile``)."""
    options: dict[str, str | bool] = {}
    for field in fields(profile):
        value = getattr(profile, field.name)
        if isinstance(value, Fraction):
            options[field.name] = f"{value.numerator}/{value.denominator}"
        else:
            options[field.name] = value
    return options
