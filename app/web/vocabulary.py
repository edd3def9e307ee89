"""The words the pages show for the service's codes, from the one place each is defined.

``GET /web/vocabulary.js`` sets ``window.JP_ZH`` before a console page's own script runs, so a
status, role or rule reaches the screen in the same Chinese as the API's messages and the report,
and a page never shows a raw code (issue 18 item 9).
"""

import json
from typing import Any

from app.auth.roles import PERMISSION_ZH, ROLE_NAMES_ZH
from app.counting.batches import BATCH_STATUS_ZH
from app.papers.service import ROUND_STATUS_ZH
from app.results.report import BASE_KIND_ZH, ROUND_KIND_ZH
from app.rules.profiles import OPTION_TEXTS, SEED_PROFILE, profile_options
from app.rules.words import INVALID_REASON, MARK_GLYPH, MARK_WORD, MARK_ZH
from app.setup.duties import ACTION_ZH
from app.setup.roster import FIELD_ZH


def vocabulary() -> dict[str, Any]:
    return {
        "role": {str(role): text for role, text in ROLE_NAMES_ZH.items()},
        "permission": {str(permission): text for permission, text in PERMISSION_ZH.items()},
        "round_status": dict(ROUND_STATUS_ZH),
        "batch_status": dict(BATCH_STATUS_ZH),
        "mark": dict(MARK_ZH),
        "mark_word": dict(MARK_WORD),
        "mark_glyph": dict(MARK_GLYPH),
        "round_kind": dict(ROUND_KIND_ZH),
        "base_kind": dict(BASE_KIND_ZH),
        "invalid_rule": {rule: zh for rule, (zh, _en) in INVALID_REASON.items()},
        "official_change": dict(ACTION_ZH),
        "profile_options": _profile_options(),
        "roster_column": dict(FIELD_ZH),
    }


def _profile_options() -> list[dict[str, Any]]:
    """Every rules-profile option in ``Profile``'s order, with its words and the seed's value
    (the election form marks it 默认)."""
    seed = profile_options(SEED_PROFILE)
    return [
        {
            "option": option,
            "label": text.label_zh,
            "rule": text.rule,
            "help": text.help_zh,
            "default": seed[option],
            "choices": [{"value": value, "label": label} for value, label in text.choices],
        }
        for option, text in OPTION_TEXTS.items()
    ]


def vocabulary_js() -> str:
    text = json.dumps(vocabulary(), ensure_ascii=False, sort_keys=True)
    return f'"use strict";\nwindow.JP_ZH = Object.freeze({text});\n'
