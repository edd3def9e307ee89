"""Concurrent requests on both databases: a delegate counts once, the chain never forks."""

import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders import Api, expect, make_congress, make_roster


def test_simultaneous_check_ins_of_one_delegate_count_once(app: FastAPI, api: Api) -> None:
    congress = make_congress(api, delegates_total=9)
    delegates = make_roster(api, congress.id, 9)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def desk(index: int) -> None:
        # No `with`: the lifespan (which disposes the shared engine) belongs to the main client.
        client = TestClient(app)
        try:
            desk_api = Api(client, api.token)
            barrier.wait()
            same = desk_api.post(
                f"/api/congresses/{congress.id}/delegates/{delegates[0].id}/check-in"
            )
            own = desk_api.post(
                f"/api/congresses/{congress.id}/delegates/{delegates[index + 1].id}/check-in"
            )
            statuses.extend([same.status_code, own.status_code])
        finally:
            client.close()

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 9 + [409] * 7
    attendance = expect(api.get(f"/api/congresses/{congress.id}/attendance"), 200)
    assert attendance["present"] == 9
    verify = expect(api.get(f"/api/congresses/{congress.id}/events/verify"), 200)
    assert verify["ok"] is True
    events = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    counts = [e["payload"]["present"] for e in events if e["type"] == "delegate.checked_in"]
    assert counts == list(range(1, 10))
