"""The chief teller sees each batch's re-entry orders (who ordered the batch entered again, why,
which entry was discarded) in the batch list, on both databases."""

from app.settings import Settings
from tests.builders import PAPERS, Api, counting, enter_all, expect, login_official, make_batch


def test_batch_list_shows_reentry_orders(api: Api, settings: Settings) -> None:
    c = counting(api, settings, collected=4)
    first = make_batch(c, 2)
    second = make_batch(c, 2)
    assert first["reentry_orders"] == []
    enter_all(c, c.tellers[0], first["id"], PAPERS[:2], "a")
    enter_all(c, c.tellers[1], first["id"], PAPERS[2:], "b")
    path = f"/api/batches/{first['id']}/reentry"
    again = expect(c.scrutineer.post(path, json={"reason": "两遍差异过多，重新录入"}), 200)
    [order] = again["reentry_orders"]
    assert order["discarded_generation"] == 1
    assert order["reason"] == "两遍差异过多，重新录入"
    assert order["author_role"] == "scrutineer"
    assert order["author_name"] == c.ready.officials["scrutineer"][0].name
    assert order["ordered_at"]

    enter_all(c, c.tellers[0], first["id"], PAPERS[:2], "a2")
    enter_all(c, c.tellers[1], first["id"], PAPERS[1:3], "b2")
    expect(c.scrutineer.post(path, json={"reason": "第二次仍不一致"}), 200)

    chief = login_official(api, c.ready.congress.id, c.ready.officials["chief_teller"][0].id)
    listed = expect(chief.get(f"/api/rounds/{c.round_id}/batches"), 200)["batches"]
    by_id = {b["id"]: b for b in listed}
    assert [
        (o["discarded_generation"], o["reason"]) for o in by_id[first["id"]]["reentry_orders"]
    ] == [(1, "两遍差异过多，重新录入"), (2, "第二次仍不一致")]
    assert by_id[first["id"]]["progress"]["generation"] == 3
    assert by_id[second["id"]]["reentry_orders"] == []
