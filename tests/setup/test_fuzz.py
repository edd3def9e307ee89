"""No 500s: arbitrary JSON bodies sent to the setup endpoints are answered with 2xx or an error
in the one error model (SQLite; TestClient re-raises any server exception)."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth import service as auth_service
from app.main import create_app
from app.settings import Settings
from tests.builders import Api, add_candidate, make_congress, make_election, make_roster

KEYS = {"code", "message_zh", "message_en", "field", "errors"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60)
    | st.sampled_from(["王芳", "teller", "4/5", "2/3", "2026-11-14", "", "  ", "丁二"])
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c),
    max_leaves=8,
)
fields = st.sampled_from(
    [
        "name",
        "delegates_total",
        "starts_on",
        "ends_on",
        "title",
        "seats",
        "profile",
        "role",
        "student_id",
        "quorum",
        "allow_uncontested",
        "name_order",
    ]
)
bodies = st.dictionaries(fields, values, max_size=5) | values


@pytest.fixture
def fuzz_api(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Api, int, int]]:
    path = tmp_path / "fuzz.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path))
    with TestClient(app) as client:
        with app.state.sessionmaker.begin() as session:
            token = auth_service.ensure_admin_token(session)
        api = Api(client, token)
        congress = make_congress(api, delegates_total=5)
        make_roster(api, congress.id, 3)
        election = make_election(api, congress.id)
        add_candidate(api, election.id, "王四")
        yield api, congress.id, election.id


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=st.sampled_from(
        [
            ("POST", "/api/congresses"),
            ("PATCH", "/api/congresses/{c}"),
            ("POST", "/api/congresses/{c}/elections"),
            ("PATCH", "/api/elections/{e}"),
            ("POST", "/api/elections/{e}/candidates"),
            ("POST", "/api/congresses/{c}/officials"),
            ("POST", "/api/auth/login"),
        ]
    ),
    body=bodies,
)
def test_no_500_for_any_json_body(
    fuzz_api: tuple[Api, int, int], target: tuple[str, str], body: object
) -> None:
    api, congress_id, election_id = fuzz_api
    method, path = target
    response = api.request(method, path.format(c=congress_id, e=election_id), json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()) == KEYS
