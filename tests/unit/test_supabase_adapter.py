"""The supabase-py adapter's requests, as PostgREST would see them (pytest-httpx)."""

from __future__ import annotations

import json

import pytest
from pytest_httpx import HTTPXMock

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


def test_queue_calls_go_to_pgmq_public(httpx_mock: HTTPXMock, db: SupabaseDatabase) -> None:
    httpx_mock.add_response(method="POST", url=f"{URL}/rest/v1/rpc/send_batch", json=[7, 8])
    httpx_mock.add_response(
        method="POST",
        url=f"{URL}/rest/v1/rpc/read",
        json=[
            {
                "msg_id": 7,
                "read_ct": 1,
                "enqueued_at": "2026-11-22T02:00:00+00:00",
                "vt": "2026-11-22T02:00:30+00:00",
                "message": {"a": 1},
                "headers": None,
            }
        ],
    )
    httpx_mock.add_response(method="POST", url=f"{URL}/rest/v1/rpc/archive", json=True)
    assert db.queue_send_batch("q", [{"a": 1}, {"a": 2}]) == [7, 8]
    messages = db.queue_read("q", 30, 10)
    assert messages[0].msg_id == 7 and messages[0].message == {"a": 1}
    assert db.queue_archive("q", 7) is True
    send, read, archive = httpx_mock.get_requests()
    assert send.headers["Content-Profile"] == "pgmq_public"
    assert json.loads(send.content) == {
        "queue_name": "q",
        "messages": [{"a": 1}, {"a": 2}],
        "sleep_seconds": 0,
    }
    assert json.loads(read.content) == {"queue_name": "q", "sleep_seconds": 30, "n": 10}
    assert json.loads(archive.content) == {"queue_name": "q", "message_id": 7}


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
