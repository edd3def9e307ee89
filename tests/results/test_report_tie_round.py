"""The result report of a tie round (M7) states the plurality rule it was decided by, and no
majority threshold, which it did not apply; a majority round states its threshold and base."""

import subprocess

from app.settings import Settings
from tests.builders import Api, hall, tie_round


def report_text(h_api: Api, round_id: int) -> str:
    response = h_api.get(f"/api/rounds/{round_id}/report.pdf")
    assert response.status_code == 200, response.text
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True,
        check=True, timeout=60,
    ).stdout.decode("utf-8")  # fmt: skip


def test_tie_round_report_states_plurality(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=2)
    tie = tie_round(h, settings)

    first = report_text(h.presidium, h.round_id)
    assert "当选最低票数（过半数）" in first
    assert "当选规则：得赞成票超过半数者当选（M2），以实到人数 8 为基数" in first

    text = report_text(h.presidium, tie["id"])
    assert "票数相等重新投票" in text
    assert "当选规则：得赞成票多者当选（M7）" in text
    assert "most yes votes elected (M7)" in text
    assert "过半数" not in text  # the tie round applied no majority threshold
    assert "threshold" not in text
