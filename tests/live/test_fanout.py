"""Fan-out: one snapshot read per change and view for all streams of a worker; worker count."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from app import serve
from app.live import router as live_router
from app.live import service as live_service
from app.settings import Settings
from tests.builders import WANG, Api, expect, hall, live_paper
from tests.live.conftest import Stream
from tests.live.conftest import serve as serve_app


def _snapshot(stream: Stream) -> dict[str, Any]:
    message = stream.next()
    while "event" not in message:  # keep-alives
        message = stream.next()
    data: dict[str, Any] = message["data"]
    return data


def test_streams_of_a_worker_share_one_read_per_change_and_view(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: dict[str, int] = {"full": 0, "progress": 0}
    real_message = live_router._message

    def counted(factory: Any, election_id: int, view: live_service.View) -> tuple[int, bytes]:
        reads[view] += 1
        return real_message(factory, election_id, view)

    monkeypatch.setattr(live_router, "_message", counted)
    monkeypatch.setattr(live_router, "KEEPALIVE_SECONDS", 60.0)  # no re-read without a change
    h = hall(api, settings, seats=3)
    body = {"declared_count": 8, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    path = f"/api/elections/{h.ready.election.id}/live?token="
    with serve_app(settings) as base:
        presidium = [Stream(f"{base}{path}{h.presidium.token}") for _ in range(8)]
        tellers = [Stream(f"{base}{path}{h.tellers[1].token}") for _ in range(3)]
        streams = presidium + tellers
        try:
            for stream in streams:
                assert _snapshot(stream)["rounds"][0]["progress"]["entered"] == 0
            response = httpx.post(
                f"{base}/api/batches/{batch['id']}/papers",
                json=live_paper(h, 1),
                headers={"Authorization": f"Bearer {h.tellers[0].token}"},
            )
            assert response.status_code == 201, response.text
            for stream in presidium:
                snapshot = _snapshot(stream)
                round_ = snapshot["rounds"][0]
                assert (snapshot["view"], round_["progress"]["entered"]) == ("full", 1)
                tallies = {t["name"]: t["yes"] for t in round_["provisional"]["tallies"]}
                assert tallies[WANG] == 1
            for stream in tellers:  # the role rule holds on the shared channel of its view
                snapshot = _snapshot(stream)
                assert snapshot["view"] == "progress"
                assert snapshot["rounds"][0]["progress"]["entered"] == 1
                assert snapshot["rounds"][0]["provisional"] is None
            # The first stream of a view reads, the others join; the paper: one read per view.
            assert reads == {"full": 2, "progress": 2}
        finally:
            for stream in streams:
                stream.close()


def test_several_workers_need_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    sqlite = Settings(data_dir=tmp_path, workers=2)
    with pytest.raises(SystemExit, match="needs PostgreSQL"):
        serve._run(sqlite)
    assert calls == []

    postgres = Settings(
        data_dir=tmp_path, workers=2, database_url="postgresql+psycopg://u@127.0.0.1/x", port=8123
    )
    serve._run(postgres)
    [(app, options)] = calls
    assert app == "app.serve:worker_app"
    assert (options["factory"], options["workers"], options["port"]) == (True, 2, 8123)

    monkeypatch.setenv("JIPIAO_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    monkeypatch.setenv("JIPIAO_PORT", "8123")
    assert serve.worker_app().state.settings.port == 8123  # each worker: settings from the env
