"""Failed logins are rate-limited per client address and in total, in the database (issue 20
item 6): wrong codes from one address are answered 429 after the limit, another address still
logs in, and the failures hold for a second app (another worker or instance) on the database."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import loginguard, models
from app.auth.router import SessionRead
from app.main import create_app
from app.models import utcnow
from app.settings import Settings
from tests.builders import Api, expect, issue_code, make_congress, make_official

WRONG = {"code": "ZZZZ-ZZZZ-ZZZZ"}


def _failures(settings: Settings) -> list[tuple[str, object]]:
    app = create_app(settings)
    with app.state.sessionmaker() as session:
        rows = session.execute(
            select(models.LoginFailure.client, models.LoginFailure.failed_at)
        ).all()
    app.state.engine.dispose()
    return [(row.client, row.failed_at) for row in rows]


def test_wrong_codes_from_one_address_are_refused_after_the_limit(
    api: Api, settings: Settings
) -> None:
    congress = make_congress(api)
    teller = make_official(api, congress.id, role="teller", name="赵磊")
    guesser = TestClient(create_app(settings), client=("203.0.113.7", 40000))
    hall = TestClient(create_app(settings), client=("192.168.1.20", 40001))
    with guesser, hall:
        for _ in range(10):
            assert expect(guesser.post("/api/auth/login", json=WRONG), 401)["code"] == (
                "invalid_login_code"
            )
        refused = guesser.post("/api/auth/login", json=WRONG)
        assert refused.status_code == 429, refused.text
        body = refused.json()
        assert body["code"] == "too_many_login_failures"
        assert "分钟" in body["message_zh"]
        assert "try again in" in body["message_en"]
        retry_after = int(refused.headers["Retry-After"])
        assert 290 <= retry_after <= 300
        # The right code from the refused address is refused too: its guesses are not checked.
        code = issue_code(api, congress.id, teller.id).code
        assert guesser.post("/api/auth/login", json={"code": code}).status_code == 429

        # The failures are rows of the database: 10, all of the guessing address (the 429s are
        # not recorded, their codes were never checked).
        recorded = _failures(settings)
        assert [client for client, _ in recorded] == ["203.0.113.7"] * 10

        # A new app on the same database (another worker, another instance, a restart) still
        # refuses the address.
        with TestClient(create_app(settings), client=("203.0.113.7", 40002)) as restarted:
            again = restarted.post("/api/auth/login", json={"code": code})
            assert again.status_code == 429, again.text

        # Another address (a tablet in the hall) logs in with its code; its own mistyped code is
        # a 401, not a 429.
        assert expect(hall.post("/api/auth/login", json=WRONG), 401)["code"] == (
            "invalid_login_code"
        )
        session = SessionRead.model_validate(
            expect(hall.post("/api/auth/login", json={"code": code}), 200)
        )
        assert session.name == "赵磊"
    assert len(_failures(settings)) == 11  # the success did not count


def test_guessing_through_the_login_qr_images_counts_too(api: Api, settings: Settings) -> None:
    """The QR images answer 404 for a code that is not pending: an oracle, limited the same."""
    congress = make_congress(api)
    teller = make_official(api, congress.id, role="teller", name="赵磊")
    code = issue_code(api, congress.id, teller.id).code
    with TestClient(create_app(settings), client=("203.0.113.9", 40000)) as guesser:
        for i in range(10):
            path = "/api/auth/login-qr.svg" if i % 2 else "/api/auth/login-qr.png"
            assert expect(guesser.get(path, params=WRONG), 404)["code"] == "login_code_not_found"
        refused = guesser.get("/api/auth/login-qr.svg", params={"code": code})
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "too_many_login_failures"
        assert guesser.post("/api/auth/login", json={"code": code}).status_code == 429
    assert len(_failures(settings)) == 10
    # The admin, from another address, still gets the QR of a pending code.
    assert api.get("/api/auth/login-qr.svg", params={"code": code}).status_code == 200


def test_a_successful_login_does_not_count(api: Api, settings: Settings) -> None:
    congress = make_congress(api)
    with TestClient(create_app(settings), client=("198.51.100.4", 40000)) as tablet:
        for i in range(15):
            official = make_official(api, congress.id, role="teller", name=f"计票人{i}")
            code = issue_code(api, congress.id, official.id).code
            expect(tablet.post("/api/auth/login", json={"code": code}), 200)
    assert _failures(settings) == []


def test_many_addresses_guessing_stop_the_failing_ones_not_a_fresh_tablet(
    api: Api, settings: Settings
) -> None:
    limited = settings.model_copy(
        update={"login_failures_per_client": 3, "login_failures_total": 6}
    )
    congress = make_congress(api)
    teller = make_official(api, congress.id, role="teller", name="赵磊")
    app = create_app(limited)
    with TestClient(app):
        for n in range(3):  # 3 addresses × 2 wrong codes = 6: the total is reached
            guesser = TestClient(app, client=(f"203.0.113.{n}", 40000))
            for _ in range(2):
                expect(guesser.post("/api/auth/login", json=WRONG), 401)
        # An address that already failed is refused now, below its own limit of 3.
        refused = TestClient(app, client=("203.0.113.0", 40000)).post("/api/auth/login", json=WRONG)
        assert refused.status_code == 429, refused.text
        # A fresh tablet with its right code still logs in.
        code = issue_code(api, congress.id, teller.id).code
        tablet = TestClient(app, client=("192.168.1.20", 40000))
        expect(tablet.post("/api/auth/login", json={"code": code}), 200)
        # At ten times the total (60), everyone is refused until the window has passed.
        for n in range(54):
            fresh = TestClient(app, client=(f"198.51.{n // 200}.{n % 200}", 40000))
            expect(fresh.post("/api/auth/login", json=WRONG), 401)
        code = issue_code(api, congress.id, teller.id).code
        ceiling = TestClient(app, client=("192.168.1.21", 40000)).post(
            "/api/auth/login", json={"code": code}
        )
        assert ceiling.status_code == 429, ceiling.text
    assert len(_failures(settings)) == 60


def test_old_failures_leave_the_window_and_are_pruned(settings: Settings) -> None:
    app = create_app(settings)
    limits = loginguard.Limits.of(settings)
    long_ago = utcnow() - timedelta(minutes=6)
    with app.state.sessionmaker.begin() as session:
        for _ in range(10):
            loginguard.record_failure(session, client="203.0.113.7", limits=limits, now=long_ago)
    with TestClient(app, client=("203.0.113.7", 40000)) as guesser:
        # Ten failures six minutes ago: outside the five-minute window, the address may try.
        expect(guesser.post("/api/auth/login", json=WRONG), 401)
    with app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(models.LoginFailure)) == 1
    app.state.engine.dispose()


def test_client_key_groups_an_ipv6_host_by_its_network() -> None:
    assert loginguard.client_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert loginguard.client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert loginguard.client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert loginguard.client_key("192.0.2.1") == "192.0.2.1"
    assert loginguard.client_key(None) == "unknown"
