"""The proposed follow-up round as the presidium sees it (``follow_up`` of a decision): the
engine's list, the seats, and the list rule in words — the same ``needed`` that opening the round
enforces (M5–M8, 六.4) — over HTTP on both databases, and per profile option."""

from app.results.service import follow_up_rule
from app.rules.profiles import Profile
from app.settings import Settings
from tests.builders import FILLED, LI, LIU, SHORT, TIED, ZHANG, Api, enter_batch, expect, hall


def test_the_decision_names_the_follow_up_and_its_rule(api: Api, settings: Settings) -> None:
    tie = hall(api, settings, seats=2)
    enter_batch(tie, TIED)
    decided = expect(tie.chief.post(f"/api/rounds/{tie.round_id}/decide"), 200)
    up = decided["follow_up"]
    assert (up["kind"], up["seats"], up["proposal"], up["needed"]) == ("tie", 1, [LIU, LI], 2)
    assert "只在票数相等的 2 人之间进行，名单不能修改" in up["rule_zh"]
    assert "得赞成票多者当选" in up["rule_zh"]
    read = expect(tie.presidium.get(f"/api/rounds/{tie.round_id}/decision"), 200)
    assert read["follow_up"] == up

    short = hall(api, settings, seats=3)
    enter_batch(short, SHORT)
    up = expect(short.chief.post(f"/api/rounds/{short.round_id}/decide"), 200)["follow_up"]
    assert (up["kind"], up["seats"], up["proposal"], up["needed"]) == (
        "supplementary", 1, [LI, ZHANG], 2,
    )  # fmt: skip
    assert up["rule_zh"].startswith(
        "差额选举（M6）：候选人至少比应选名额多 1 名（另行选举 1 名，至少 2 名）"
    )
    assert "另行选举仍须得赞成票超过半数才能当选（M8）" in up["rule_zh"]

    filled = hall(api, settings, seats=3)
    enter_batch(filled, FILLED)
    filled_up = expect(filled.chief.post(f"/api/rounds/{filled.round_id}/decide"), 200)
    assert filled_up["follow_up"] is None


def test_the_rule_follows_the_profile() -> None:
    plus_one = follow_up_rule("supplementary", 4, Profile())
    assert plus_one.needed == 5
    ratio = follow_up_rule("supplementary", 10, Profile(slate_size="ratio_20"))
    assert ratio.needed == 12  # ⌈6 × 10 / 5⌉
    assert "至少比应选名额多 20%，且至少多 1 名（另行选举 10 名，至少 12 名）" in ratio.rule_zh
    assert follow_up_rule("supplementary", 2, Profile(slate_size="ratio_20")).needed == 3
    uncontested = follow_up_rule("supplementary", 3, Profile(allow_uncontested=True))
    assert uncontested.needed == 3
    assert "允许等额选举" in uncontested.rule_zh
    listed = follow_up_rule("supplementary", 1, Profile(supplementary_pool="listed_only"))
    assert "只从本轮选票上印的候选人中" in listed.rule_zh
    assert "含另选他人" in plus_one.rule_zh
    tie = follow_up_rule("tie", 1, Profile(), tied=3)
    assert tie.needed == 3
    assert "3 人" in tie.rule_zh
