"""Junk input is a 4xx, never a 500: every route of the four functions is fuzzed (hypothesis)
through functions-framework's test client, in its query string, JSON body, path values and
headers; and a table of known nasty inputs must answer 400 with the JSON error shape."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from functions.fetch_profile import main as fetch_profile
from functions.oauth_flow import main as oauth_flow
from functions.queue_consumer import main as queue_consumer
from functions.sync_static_data import main as sync_static_data
from shared.blizzard.regions import GameVersion
from shared.bootstrap import App
from shared.routing import Access, Routes
from tests.functions.conftest import (
    FakeBattleNet,
    function_client,
    make_user,
    service_headers_for,
    user_headers,
)

FUNCTIONS: dict[str, Routes] = {
    "sync_static_data": sync_static_data.routes,
    "oauth_flow": oauth_flow.routes,
    "fetch_profile": fetch_profile.routes,
    "queue_consumer": queue_consumer.routes,
}


@dataclass(frozen=True)
class Route:
    target: str
    method: str
    rule: str  # Werkzeug rule text, e.g. /api/v1/characters/<id:character_id>/enrich
    access: Access

    def path(self, values: dict[str, str]) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), self.rule)

    @property
    def variables(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


def all_routes() -> list[Route]:
    found = []
    for target, routes in FUNCTIONS.items():
        for rule in routes.map.iter_rules():
            assert isinstance(rule, Rule)
            access, _ = routes.views[str(rule.endpoint)]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append(Route(target, method, rule.rule, access))
    return found


ROUTES = all_routes()
NASTY = [
    "",
    " ",
    "null",
    "0",
    "-1",
    "1e309",
    "NaN",
    "9" * 30,
    "9" * 5000,  # past Python's int string limit
    "http://[::1",
    "http://[::1]:99999/",
    "http://localhost:3000\uff03@evil.com",
    "http://localhost:3000\u2100@evil.com",
    "//evil.com",
    "javascript:alert(1)",
    "\x00",
    "\r\nX-Injected: 1",
    "%",
    "%zz",
    "%ff%fe",
    "\ud800",
    "\U0001f600" * 50,
    "a" * 10_000,
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "' or 1=1 --",
    "{}",
    "[]",
    "retail\x00",
    "us,eu,,",
]
junk_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60))
QUERY_KEYS = [
    "redirect_to",
    "region",
    "code",
    "state",
    "error",
    "user_id",
    "userId",
    "battlenet_id",
    "since",
    "limit",
    "kind",
    "gameVersion",
]
BODY_KEYS = [
    "gameVersion",
    "userId",
    "user_id",
    "battlenet_id",
    "regions",
    "gameVersions",
    "maxMessages",
    "maxSeconds",
    "idleSeconds",
    "visibilityTimeout",
    "queue",
    "since",
    "reason",
    "limit",
    "autoSync",
]
# Values that never make a valid consumer run: no small positive numbers (a valid `idleSeconds`
# would make a call wait).
scalar_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=10**6),
    st.integers(max_value=-1),
    st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308, -0.0]),
    junk_text,
)
json_junk = st.recursive(
    scalar_junk,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(BODY_KEYS), st.text(max_size=8)), inner, max_size=4
        ),
    ),
    max_leaves=12,
)
body_objects = st.dictionaries(st.sampled_from(BODY_KEYS), json_junk, max_size=5)
raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [b"\xff\xfe\x00", b'{"gameVersion": "\xff"}', b"{" * 5000, b"[" * 10_000, b"1" * 5000]
    ),
)
CONTENT_TYPES = [
    None,
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "application/json; charset=nope",
]
FUZZ = settings(
    max_examples=int(os.environ.get("GUILD_SYNC_FUZZ_EXAMPLES", "80")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Callers:
    def __init__(self, app: App) -> None:
        self.user = make_user(app)
        self.headers = {
            "none": {},
            "service": service_headers_for(app.settings),
            "user": user_headers(app.settings, self.user),
        }


@pytest.fixture
def callers(app: App, battlenet: FakeBattleNet) -> Callers:
    return Callers(app)


@pytest.fixture
def clients(app: App) -> Iterator[dict[str, FlaskClient]]:
    yield {target: function_client(target) for target in FUNCTIONS}


def check(response: Any, what: str) -> None:
    """No 500, and every error in the JSON error shape."""
    assert response.status_code != 500, f"{what}: {response.get_data()[:500]!r}"
    if response.status_code >= 400:
        assert response.mimetype == "application/json", what
        error = json.loads(response.get_data())["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), what
        if response.status_code >= 500:  # Battle.net (faked) may be out; never "internal"
            assert error["code"] != "internal_error", what


def test_every_route_is_fuzzed() -> None:
    """The table covers every function's routes (a new route is fuzzed without a change)."""
    targets = {r.target for r in ROUTES}
    assert targets == set(FUNCTIONS)
    assert ("PUT", "/api/v1/me/sync-preferences") in {(r.method, r.rule) for r in ROUTES}
    assert len(ROUTES) >= 15


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("redirect_to=http://[::1", "redirect_to"),
        ("redirect_to=" + quote("http://localhost:3000\uff03@evil.com"), "redirect_to"),
        ("redirect_to=" + quote("http://localhost:3000\u2100@evil.com"), "redirect_to"),
        ("redirect_to=http://localhost:99999/", "redirect_to"),
        ("redirect_to=%ff%fe", "redirect_to"),
        ("region=%00", "region"),
    ],
)
def test_malformed_login_urls_are_400(
    clients: dict[str, FlaskClient], callers: Callers, query: str, fragment: str
) -> None:
    response = clients["oauth_flow"].get(f"/functions/v1/oauth-flow/login?{query}")
    assert response.status_code == 400, response.get_data()
    assert fragment in json.loads(response.get_data())["error"]["message"]


@pytest.mark.parametrize("last_event_id", ["9" * 5000, "9" * 19, "-1", "1.5", "\u0661"])
def test_junk_last_event_id_is_400(
    clients: dict[str, FlaskClient], callers: Callers, app: App, last_event_id: str
) -> None:
    session = app.character_sync.start(uuid.UUID(callers.user), GameVersion.RETAIL).session_id
    response = clients["fetch_profile"].get(
        f"/api/v1/characters/sync/{session}/events",
        headers={**callers.headers["user"], "Last-Event-ID": last_event_id},
    )
    assert response.status_code == 400, response.get_data()[:300]
    assert "Last-Event-ID" in json.loads(response.get_data())["error"]["message"]


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    who=st.sampled_from(["none", "service", "user"]),
    params=st.lists(
        st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), junk_text), junk_text), max_size=4
    ),
    raw=st.sampled_from(["", "&&=&", "redirect_to=%", "a=%zz&b=%ff", "x=" + "%00" * 10]),
)
def test_query_strings(
    clients: dict[str, FlaskClient],
    callers: Callers,
    route: Route,
    who: str,
    params: list[tuple[str, str]],
    raw: str,
) -> None:
    query = "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in params
    )
    url = f"{route.path({})}?{query}&{raw}"
    response = clients[route.target].open(url, method=route.method, headers=callers.headers[who])
    check(response, f"{route.method} {url}")


@FUZZ
@given(
    route=st.sampled_from([r for r in ROUTES if r.method in ("POST", "PUT")]),
    who=st.sampled_from(["service", "user"]),
    body=st.one_of(
        body_objects.map(lambda o: json.dumps(o).encode()),
        json_junk.map(lambda o: json.dumps(o).encode()),
        raw_bodies,
    ),
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_bodies(
    clients: dict[str, FlaskClient],
    callers: Callers,
    route: Route,
    who: str,
    body: bytes,
    content_type: str | None,
) -> None:
    headers = dict(callers.headers[who])
    if content_type:
        headers["Content-Type"] = content_type
    response = clients[route.target].open(
        route.path({}), method=route.method, headers=headers, data=body
    )
    check(response, f"{route.method} {route.rule} {body[:200]!r} ({content_type})")


path_junk = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1.5",
            "1e3",
            "9" * 18,
            "9" * 19,
            "9" * 5000,
            str(2**63),
            "0x10",
            "%31",
            "%ff",
            "%00",
            "\u0661",  # an Arabic-Indic digit: str.isdigit() but not [0-9]
            "00000000-0000-0000-0000-000000000000",
            "00000000000000000000000000000000",
            "{00000000-0000-0000-0000-000000000000}",
            "ffffffff-ffff-ffff-ffff-fffffffffffg",
            "..",
            "a/b",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40).map(
        lambda t: quote(t, safe="")
    ),
)


@FUZZ
@given(
    route=st.sampled_from([r for r in ROUTES if r.variables]),
    who=st.sampled_from(["service", "user"]),
    values=st.lists(path_junk, min_size=2, max_size=2),
)
def test_path_values(
    clients: dict[str, FlaskClient], callers: Callers, route: Route, who: str, values: list[str]
) -> None:
    path = route.path(dict(zip(route.variables, values, strict=False)))
    response = clients[route.target].open(path, method=route.method, headers=callers.headers[who])
    check(response, f"{route.method} {path}")


# Header values as a server hands them over: bytes read as latin-1 (UTF-8 text arrives so),
# never a line break (it ends the header).
header_junk = st.one_of(
    st.sampled_from(NASTY).map(
        lambda t: t.encode("utf-8", "surrogatepass").decode("latin-1").replace("\r\n", " ")
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80),
)


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    who=st.sampled_from(["service", "user", "junk"]),
    authorization=header_junk.map(lambda t: "Bearer " + t),
    last_event_id=header_junk,
    forwarded=st.lists(header_junk, max_size=3).map(", ".join),
    extra=st.dictionaries(
        st.sampled_from(
            ["Origin", "Cookie", "X-Cloud-Trace-Context", "traceparent", "Content-Length"]
        ),
        header_junk,
        max_size=3,
    ),
)
def test_headers(
    clients: dict[str, FlaskClient],
    callers: Callers,
    route: Route,
    who: str,
    authorization: str,
    last_event_id: str,
    forwarded: str,
    extra: dict[str, str],
) -> None:
    headers = dict(callers.headers.get(who) or {"Authorization": authorization})
    headers.update({"Last-Event-ID": last_event_id, "X-Forwarded-For": forwarded})
    headers.update({k: v for k, v in extra.items() if k != "Content-Length" or v.isdigit()})
    values = {"session_id": "00000000-0000-0000-0000-000000000000"}
    response = clients[route.target].open(route.path(values), method=route.method, headers=headers)
    check(response, f"{route.method} {route.rule} {headers}")


def test_paths_the_framework_cannot_route_answer_json(clients: dict[str, FlaskClient]) -> None:
    """functions-framework's catch-all route does not match a path with a newline: its 404 is
    in the JSON error shape too."""
    response = clients["fetch_profile"].get("/api/v1/characters/%0A")
    assert response.status_code == 404
    assert json.loads(response.get_data())["error"]["code"] == "not_found"
