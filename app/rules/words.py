"""The words of the rules, defined once: what each mark is called and drawn as, and why a paper is
invalid. The engine's trace, the result report, the API's vocabulary for the pages
(``/web/vocabulary.js``) and the tablet all read them from here, so they cannot drift apart.
"""

from app.rules.model import EnteredMark, Mark, RuleId

AnyMark = Mark | EnteredMark
"""A mark as entered (``unclear`` waits for a scrutineer) or as final (``illegible``, P6)."""

MARK_WORD: dict[AnyMark, str] = {
    "yes": "赞成",
    "no": "不赞成",
    "abstain": "弃权",
    "blank": "未划",
    "unclear": "无法辨认",
    "illegible": "无效",
}
"""A mark's short name: a tablet button, a report column."""

MARK_GLYPH: dict[AnyMark, str] = {
    "yes": "✓",
    "no": "×",
    "abstain": "△",
    "blank": "",
    "unclear": "?",
    "illegible": "⊘",
}
"""How a mark is drawn on a paper and on the pages (a blank box is empty)."""

# How the marks that are not a vote count (P5: a blank abstains; P6: an illegible mark abstains
# unless the profile voids the paper, and an unclear one waits for the scrutineers).
_MARK_NOTE: dict[AnyMark, str] = {
    "blank": "（按弃权计）",
    "unclear": "（待裁定）",
    "illegible": "（按弃权计）",
}

MARK_ZH: dict[AnyMark, str] = {
    mark: word + _MARK_NOTE.get(mark, "") for mark, word in MARK_WORD.items()
}
"""A mark in words with how it counts, e.g. 未划（按弃权计）: the API's messages and the pages."""

INVALID_REASON: dict[RuleId, tuple[str, str]] = {
    "P1": ("非本轮正式选票", "not an authentic paper of this round"),
    "P2": ("另选他人数多于不赞成票数", "more write-ins than × marks"),
    "P3": ("所选人数多于应选人数", "more persons chosen than seats"),
    "P4": ("有可识别身份的记号", "marks that could identify the voter"),
    "P5": ("空白选票", "an empty paper"),
    "P6": ("有无法辨认的符号", "an illegible mark"),
    "P9": ("全票无法辨认", "the whole paper is illegible"),
}
"""(Chinese, English) reason a paper is invalid, by the rule it breaks (the paper's first)."""
