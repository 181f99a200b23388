"""The supabase-py adapter's requests, as PostgREST would see them (pytest-httpx)."""

from __future__ import annotations

import json

import pytest
from pytest_httpx import HTTPXMock

from shared.db.repositories import Repositories
from shared.db.supabase_adapter import SupabaseDatabase
from shared.errors import DataError

URL = "https://project.supabase.invalid"
KEY = "service-role-key"


@pytest.fixture
def db() -> SupabaseDatabase:
    return SupabaseDatabase(URL, KEY)


def test_rpc_posts_named_params_to_public(httpx_mock: HTTPXMock, db: SupabaseDatabase) -> None:
    httpx_mock.add_response(method="POST", url=f"{URL}/rest/v1/rpc/upsert_static_data", json=[])
    assert db.rpc("upsert_static_data", {"p_data": [{"region": "us"}]}) == []
    request = httpx_mock.get_requests()[0]
    assert json.loads(request.content) == {"p_data": [{"region": "us"}]}
    assert request.headers["apikey"] == KEY
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Profile"] == "public"


def test_upsert_sets_on_conflict_and_prefer(httpx_mock: HTTPXMock, db: SupabaseDatabase) -> None:
    rows = [{"flavor": "retail", "id": 1, "name": "Warrior"}]
    httpx_mock.add_response(method="POST", json=rows)
    assert db.upsert_rows("wow_classes", rows, "flavor,id") == rows
    request = httpx_mock.get_requests()[0]
    assert request.url.path == "/rest/v1/wow_classes"
    assert request.url.params["on_conflict"] == "flavor,id"
    assert "resolution=merge-duplicates" in request.headers["Prefer"]
    assert "return=representation" in request.headers["Prefer"]
    assert json.loads(request.content) == rows


def test_queue_calls_are_public_rpcs(httpx_mock: HTTPXMock, db: SupabaseDatabase) -> None:
    """Queue calls go through our own service-only RPCs in `public`, not `pgmq_public`."""
    httpx_mock.add_response(
        method="POST",
        url=f"{URL}/rest/v1/rpc/queue_claim",
        json=[
            {
                "msgId": 7,
                "readCt": 1,
                "attempts": 1,
                "enqueuedAt": "2026-11-22T02:00:00+00:00",
                "message": {"a": 1},
            }
        ],
    )
    httpx_mock.add_response(method="POST", url=f"{URL}/rest/v1/rpc/queue_settle", json=True)
    repo = Repositories.over(db)
    [delivery] = repo.queue.queue_claim("q", 30, 10, fair=True)
    assert delivery.msg_id == 7 and delivery.message == {"a": 1} and delivery.attempts == 1
    assert repo.queue.queue_settle(delivery, "pause", 12, "window") is True
    claim, settle = httpx_mock.get_requests()
    assert claim.headers["Content-Profile"] == "public"
    assert json.loads(claim.content) == {"p_queue": "q", "p_vt": 30, "p_qty": 10, "p_fair": True}
    assert json.loads(settle.content) == {
        "p_queue": "q",
        "p_msg_id": 7,
        "p_read_ct": 1,
        "p_action": "pause",
        "p_seconds": 12,
        "p_reason": "window",
    }


def test_postgrest_errors_become_data_errors(httpx_mock: HTTPXMock, db: SupabaseDatabase) -> None:
    httpx_mock.add_response(
        method="POST",
        status_code=404,
        json={
            "code": "PGRST202",
            "message": "Could not find the function",
            "details": None,
            "hint": None,
        },
    )
    with pytest.raises(DataError, match="PGRST202"):
        db.rpc("missing", {})


def test_building_the_adapter_makes_no_request(httpx_mock: HTTPXMock) -> None:
    SupabaseDatabase(URL, KEY)
    assert httpx_mock.get_requests() == []


def test_a_sb_secret_key_is_the_service_role_key(httpx_mock: HTTPXMock) -> None:
    """SUPABASE_SERVICE_ROLE_KEY may be a `sb_secret_` key (no JWT): supabase-py sends it as
    `apikey` and, identical, as Bearer, which Supabase's API gateway accepts for secret keys."""
    from shared.bootstrap import make_database
    from tests.conftest import make_settings

    secret = "sb_secret_" + "S" * 31
    settings = make_settings(supabase_url=URL, supabase_service_role_key=secret)
    database = make_database(settings)
    assert isinstance(database, SupabaseDatabase) and settings.uses_supabase
    user = "00000000-0000-0000-0000-000000000001"
    httpx_mock.add_response(method="POST", url=f"{URL}/rest/v1/rpc/find_user_id", json=user)
    assert str(Repositories.over(database).users.find_user_id(user)) == user
    request = httpx_mock.get_requests()[0]
    assert request.headers["apikey"] == secret
    assert request.headers["Authorization"] == f"Bearer {secret}"
