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


@dataclass(frozen=True, slots=True)
class OptionText:
    """How a page names one option for the secretariat: a plain Chinese label, the rule it varies
    (RULES.md), what it is about, and every value it may take (as RULES.md spells it) with its
    words. ``choices`` pairs code values with Chinese, so tests/rules/test_profile_texts.py checks
    those words (tests/test_chinese.py would read the codes as English)."""

    label_zh: str
    rule: str
    help_zh: str
    choices: tuple[tuple[str | bool, str], ...]


# Every option's words, in the order of ``Profile`` (``web/vocabulary.py`` serves them to the
# election form; tests/rules check that every option and value is named, with Chinese only).
OPTION_TEXTS: dict[str, OptionText] = {
    "name_order": OptionText(
        label_zh="候选人姓名排列方式",
        rule="B1",
        help_zh="选票上按姓氏笔画为序排列候选人时，两个字的姓名（单名）与三个字的姓名如何比较。",
        choices=(
            (
                "single_given_name_first",
                "单名在前：同姓时两个字的姓名排在三个字的姓名之前（党、团文件惯例，王宁在王小洪之前）",
            ),
            (
                "character_by_character",
                "逐字比较：从第一个字起逐字比较笔画（人大文件惯例，王长河在王刚之前）",
            ),
        ),
    ),
    "quorum": OptionText(
        label_zh="选举所需出席比例",
        rule="Q1",
        help_zh="已签到的代表须达到应到人数的这一比例，才能发出选票。",
        choices=(("4/5", "五分之四"), ("2/3", "三分之二")),
    ),
    "quorum_strict": OptionText(
        label_zh="出席比例的计算方式",
        rule="Q1",
        help_zh="选举办法写“以上”时包括本数，写“超过”时不包括本数。",
        choices=(
            (False, "达到该比例即可（“以上”，含本数）"),
            (True, "须超过该比例（“超过”，不含本数）"),
        ),
    ),
    "overcount_base": OptionText(
        label_zh="本轮选举无效的标准",
        rule="I2",
        help_zh="收回的选票多于下列人数时，本轮选举无效，须重新投票；多于发出的选票数时总是无效。",
        choices=(("present", "多于实到代表人数"), ("issued", "多于发出的选票数")),
    ),
    "majority_base": OptionText(
        label_zh="当选所需过半数的基数",
        rule="M1",
        help_zh="被选举人获得的赞成票须超过下列人数的一半，才能当选。",
        choices=(
            ("present", "实到会议代表人数"),
            ("delegates_total", "应到代表人数（全体代表）"),
            ("collected", "参加投票的人数（收回的选票数）"),
            ("valid_papers", "有效选票数"),
        ),
    ),
    "over_selection_voids": OptionText(
        label_zh="多选的选票",
        rule="P3",
        help_zh="赞成的候选人与另选他人合计多于应选人数的选票。",
        choices=((True, "无效（所选人数多于应选人数的选票无效）"), (False, "不因多选而无效")),
    ),
    "empty_paper_valid": OptionText(
        label_zh="空白选票",
        rule="P5",
        help_zh="未作任何标记、也未另选他人的选票。",
        choices=((True, "有效，全部按弃权计算"), (False, "无效")),
    ),
    "unclear_voids_paper": OptionText(
        label_zh="无法辨认的标记",
        rule="P6",
        help_zh="监票人认定选票上某一标记无法辨认时。",
        choices=(
            (False, "只有该候选人的标记无效（按弃权计算），其余部分有效"),
            (True, "整张选票无效"),
        ),
    ),
    "slate_size": OptionText(
        label_zh="另行选举的候选人数",
        rule="M6",
        help_zh="当选人数不足、按不足名额另行选举时，提出的候选人数。",
        choices=(
            ("plus_one", "比不足的名额多一人"),
            ("ratio_20", "比不足的名额多至少 20%（至少多一人）"),
        ),
    ),
    "supplementary_pool": OptionText(
        label_zh="另行选举的候选人来源",
        rule="M6",
        help_zh="另行选举时，从哪些得票人中按赞成票多少提出候选人。",
        choices=(
            ("all_persons", "所有得票人，包括另选他人的得票人"),
            ("listed_only", "只从选票上印有的候选人中提出"),
        ),
    ),
    "tie_policy": OptionText(
        label_zh="最后名额得票相等时",
        rule="M7",
        help_zh="得票相等的人合计超过剩余名额时。",
        choices=(("tie_round", "对得票相等的人再次投票"), ("vacant", "不再投票，该名额空缺")),
    ),
    "allow_uncontested": OptionText(
        label_zh="等额选举",
        rule="六.4",
        help_zh="候选人数等于应选名额时，能否进行选举。",
        choices=(
            (False, "不允许：候选人须多于应选名额（差额选举）"),
            (True, "允许候选人数等于应选名额"),
        ),
    ),
    "double_entry": OptionText(
        label_zh="双人录入",
        rule="O3",
        help_zh="每批选票是否由两名不同的计票人各录入一遍并核对一致。",
        choices=((True, "每批由两名计票人分别录入并核对"), (False, "每批只录入一遍")),
    ),
}


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
