"""The local Battle.net emulator (devtools.emulator) through Flask's test client."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask.testing import FlaskClient
from werkzeug.http import http_date

from devtools.emulator import EmulatorConfig, State, create_app
from devtools.emulator.names import decode_name, encode_id
from tests.fakes.emulator import (
    NOT_FOUND,
    REDIRECT,
    UNAUTHORIZED,
    VERIFIER,
    FakeClock,
    account,
    api,
    app_token,
    authorize,
    basic,
    char_path,
    client_credentials,
    code_of,
    emulator_client,
    exchange,
    js,
    user_token,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(clock: FakeClock, sleeps: list[float]) -> FlaskClient:
    return emulator_client(clock, sleeps)


def test_client_credentials_need_basic_auth(client: FlaskClient) -> None:
    body = js(client_credentials(client, **basic()))
    assert body["token_type"] == "bearer" and body["expires_in"] == 86399
    assert body["sub"] == "test-id" and body["access_token"]
    in_form = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "test-id",
            "client_secret": "test-secret",
        },
    )
    wrong = client_credentials(client, **basic(password="wrong"))
    for response in (in_form, wrong):
        assert response.status_code == 401 and js(response)["error"] == "invalid_client"


def test_authorize_token_userinfo_with_pkce(client: FlaskClient) -> None:
    redirect = authorize(client, 7)
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    assert location.path.endswith("/oauth-flow/callback")
    assert parse_qs(location.query)["state"] == ["st-1"]
    code = code_of(redirect)
    wrong = exchange(client, code, verifier="not-the-verifier")
    assert wrong.status_code == 400 and js(wrong)["error"] == "invalid_grant"
    good = exchange(client, code)
    assert good.status_code == 200
    body = js(good)
    assert body["scope"] == "openid wow.profile" and body["expires_in"] == 86399
    assert body["sub"] == "100007" and body["id_token"] and body["token_type"] == "bearer"
    reused = exchange(client, code)
    assert reused.status_code == 400 and js(reused)["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    info = js(client.get("/oauth/userinfo", headers=bearer))
    assert info["sub"] == "100007" and info["id"] == 100007 and info["battletag"].endswith("#1007")
    app = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {app_token(client)}"})
    assert app.status_code == 401


def test_authorize_deny_login_page_and_validation(client: FlaskClient) -> None:
    denied = parse_qs(urlsplit(authorize(client, 1, deny="1").headers["Location"]).query)
    assert denied["error"] == ["access_denied"] and denied["state"] == ["st-1"]
    page = client.get(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": "test-id",
            "redirect_uri": REDIRECT,
            "state": "s",
        },
    )
    assert page.status_code == 200 and b"user=N" in page.data
    assert authorize(client, 1, state="").status_code == 400
    assert authorize(client, 1, client_id="other").status_code == 400
    other_uri = client.post(
        "/oauth/token",
        headers=basic(),
        data={
            "grant_type": "authorization_code",
            "code": code_of(authorize(client, 1)),
            "redirect_uri": "http://elsewhere/cb",
            "code_verifier": VERIFIER,
        },
    )
    assert other_uri.status_code == 400 and js(other_uri)["error"] == "invalid_grant"


def test_missing_and_query_string_tokens_are_rejected(client: FlaskClient) -> None:
    token = app_token(client)
    in_query = client.get(
        "/data/wow/playable-class/index",
        query_string={"namespace": "static-us", "access_token": token},
    )
    assert in_query.status_code == 401 and "Authorization" in js(in_query)["detail"]
    bare = client.get("/data/wow/playable-class/index?namespace=static-us")
    assert bare.status_code == 401 and js(bare) == UNAUTHORIZED
    assert js(api(client, "/data/wow/playable-class/index", "bogus", "static-us")) == UNAUTHORIZED


def test_namespace_rules(client: FlaskClient) -> None:
    token = app_token(client)
    path = "/data/wow/playable-class/index"
    assert api(client, path, token, None).status_code == 400
    by_header = js(api(client, path, token, None, header_Battlenet_Namespace="static-classic1x-eu"))
    assert len(by_header["classes"]) == 9
    assert js(api(client, path, token, "dynamic-us")) == NOT_FOUND
    assert js(api(client, "/data/wow/nothing-here", token, "static-us")) == NOT_FOUND
    versioned = api(client, "/data/wow/playable-class/13", token, "static-10.2.5_52554-us")
    assert versioned.status_code == 200


def test_class_and_race_shapes(client: FlaskClient) -> None:
    token = app_token(client)
    classes = js(api(client, "/data/wow/playable-class/index", token, "static-us"))["classes"]
    assert len(classes) == 13 and set(classes[12]) == {"key", "name", "id"}
    assert classes[12]["name"] == "Evoker"
    shaman = js(api(client, "/data/wow/playable-class/7", token, "static-us"))
    assert shaman["power_type"]["name"] == "Mana"
    assert [s["id"] for s in shaman["specializations"]] == [262, 263, 264]
    races = js(api(client, "/data/wow/playable-race/index", token, "static-us"))["races"]
    assert all(set(r) == {"key", "name", "id"} for r in races)
    assert {52, 70, 24, 25, 26} <= {r["id"] for r in races}
    faction = {
        rid: js(api(client, f"/data/wow/playable-race/{rid}", token, "static-us"))["faction"]
        for rid in (24, 25, 26)
    }
    assert faction[24] == {"type": "NEUTRAL", "name": "Neutral"}
    assert faction[25]["type"] == "ALLIANCE" and faction[26]["type"] == "HORDE"
    classic = js(api(client, "/data/wow/playable-race/index", token, "static-classicann-us"))
    assert len(classic["races"]) == 8
    evoker = api(client, "/data/wow/playable-class/13", token, "static-classic1x-us")
    assert evoker.status_code == 404


def test_realms_and_connected_realms(client: FlaskClient) -> None:
    token = app_token(client)
    realms = js(api(client, "/data/wow/realm/index", token, "dynamic-eu"))["realms"]
    assert {"aggra-português", "гордунни"} <= {r["slug"] for r in realms}
    aggra = js(api(client, "/data/wow/realm/" + quote("aggra-português"), token, "dynamic-eu"))
    assert aggra["name"] == "Aggra (Português)"
    assert aggra["connected_realm"]["href"].endswith("/connected-realm/1303?namespace=dynamic-eu")
    group = js(api(client, "/data/wow/connected-realm/1303", token, "dynamic-eu"))
    assert [r["slug"] for r in group["realms"]] == ["aggra-português", "grim-batol"]
    assert js(api(client, "/data/wow/realm/azshara", token, "dynamic-kr"))["name"] == "아즈샤라"
    index = js(api(client, "/data/wow/connected-realm/index", token, "dynamic-us"))
    assert len(index["connected_realms"]) >= 20


def test_connected_realm_search_pages(client: FlaskClient) -> None:
    token = app_token(client)
    path = "/data/wow/search/connected-realm"
    everything = js(api(client, path, token, "dynamic-us"))["results"]
    seen: list[int] = []
    for page in (1, 2, 3):
        body = js(api(client, path, token, "dynamic-us", _page=page, _pageSize=10, orderby="id"))
        assert body["page"] == page and body["pageSize"] == 10 and body["maxPageSize"] == 1000
        assert body["pageCount"] == -(-len(everything) // 10)
        seen += [r["data"]["id"] for r in body["results"]]
    assert seen == sorted(seen) and len(seen) == len(everything)
    realm = everything[0]["data"]["realms"][0]
    assert "connected_realm" not in realm and len(realm["name"]) == 12
    assert realm["region"]["name"]["en_US"] == "North America"
    assert js(api(client, path, token, "dynamic-us", _pageSize=5000))["pageSize"] == 1000


def test_account_profile_needs_a_user_token(client: FlaskClient) -> None:
    token = user_token(client, 6)
    body = js(api(client, "/profile/user/wow", token, "profile-us"))
    assert body["id"] == 100006 and len(body["wow_accounts"]) == 2
    chars = [c for w in body["wow_accounts"] for c in w["characters"]]
    assert len(chars) == 2 + 6 % 7
    assert set(chars[0]) == {
        "character",
        "protected_character",
        "name",
        "id",
        "realm",
        "playable_class",
        "playable_race",
        "gender",
        "faction",
        "level",
    }
    forbidden = api(client, "/profile/user/wow", app_token(client), "profile-us")
    assert forbidden.status_code == 403
    assert js(forbidden) == {"code": 403, "type": "BLZWEBAPI00000403", "detail": "Forbidden"}
    assert js(api(client, "/profile/user/wow", token, "profile-kr")) == NOT_FOUND
    protected_path = urlsplit(chars[0]["protected_character"]["href"]).path
    assert js(api(client, protected_path, token, "profile-us"))["id"] == chars[0]["id"]


def test_character_endpoints_with_a_non_ascii_name(client: FlaskClient) -> None:
    token = app_token(client)
    first = account(client, 1)["characters"][0]
    assert first["name"] == "Zéphyr"
    path = char_path(first["realm"], first["name"])
    assert "z%C3%A9phyr" in path
    profile = js(api(client, path, token, "profile-us"))
    assert profile["id"] == first["id"] and profile["name"] == "Zéphyr"
    assert profile["last_login_timestamp"] > 10**12 and profile["level"] == first["level"]
    assert {"character_class", "race", "faction", "active_spec", "equipped_item_level"} <= set(
        profile
    )
    media = js(api(client, path + "/character-media", token, "profile-us"))
    assert [a["key"] for a in media["assets"]][:2] == ["avatar", "inset"]
    assert media["assets"][0]["value"].startswith("https://render.worldofwarcraft.com/us/")
    status = js(api(client, path + "/status", token, "profile-us"))
    assert status["id"] == first["id"] and status["is_valid"] is True
    shouting = f"/profile/wow/character/{first['realm']}/{quote('ZÉPHYR')}"
    assert api(client, shouting, token, "profile-us").status_code == 200
    assert js(api(client, char_path(first["realm"], "nobody"), token, "profile-us")) == NOT_FOUND


def test_last_modified_and_304(client: FlaskClient) -> None:
    token = app_token(client)
    path = "/data/wow/playable-class/index"
    stamp = api(client, path, token, "static-us").headers["Last-Modified"]
    again = api(client, path, token, "static-us", header_If_Modified_Since=stamp)
    assert again.status_code == 304 and again.data == b""
    older = api(client, path, token, "static-us", header_If_Modified_Since=http_date(0))
    assert older.status_code == 200
    assert js(client.get("/_emulator/stats"))["not_modified"] == 1


def test_rate_limit_answers_429_for_the_rest_of_the_second(
    client: FlaskClient, clock: FakeClock
) -> None:
    client.post("/_emulator/config", json={"rate_limit": 3})
    token = app_token(client)  # the token request counts too
    path = "/data/wow/playable-class/index"
    responses = [api(client, path, token, "static-us") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 429, 429]
    limited = responses[-1]
    assert js(limited) == {"code": 429, "type": "BLZWEBAPI00000429", "detail": "Too Many Requests"}
    assert "Retry-After" not in limited.headers
    clock.now += 1
    assert api(client, path, token, "static-us").status_code == 200
    stats = js(client.get("/_emulator/stats"))
    assert stats["rate_limited"] == 2 and stats["max_per_second"] == 5
    assert stats["by_endpoint"]["token"] == 1 and stats["by_status"]["429"] == 2


def test_override_rename_keeps_the_id(client: FlaskClient) -> None:
    token = app_token(client)
    before = account(client, 2)["characters"][0]
    old_path = char_path(before["realm"], before["name"])
    old = api(client, old_path, token, "profile-us")
    put = client.put("/_emulator/accounts/2", json={"characters": [{"name": "Ñoño", "level": 71}]})
    assert put.status_code == 200 and js(put)["overridden"] is True
    assert api(client, old_path, token, "profile-us").status_code == 404
    renamed = api(client, char_path(before["realm"], "Ñoño"), token, "profile-us")
    assert js(renamed)["id"] == before["id"] and js(renamed)["level"] == 71
    assert renamed.headers["Last-Modified"] != old.headers["Last-Modified"]
    bad = client.put("/_emulator/accounts/2", json={"characters": [{"realm": "no-such-realm"}]})
    assert bad.status_code == 400 and "realm" in js(bad)["error"]


def test_inactive_gives_404_and_media_fails_gives_500(client: FlaskClient) -> None:
    token = app_token(client)
    client.put(
        "/_emulator/accounts/3",
        json={
            "characters": [
                {"name": "Sleeper", "inactive": True},
                {"name": "Blurry", "media_fails": True},
            ]
        },
    )
    chars = account(client, 3)["characters"]
    sleeper = char_path(chars[0]["realm"], "Sleeper")
    for suffix in ("", "/character-media", "/status"):
        assert js(api(client, sleeper + suffix, token, "profile-us")) == NOT_FOUND
    blurry = char_path(chars[1]["realm"], "Blurry")
    assert api(client, blurry, token, "profile-us").status_code == 200
    assert api(client, blurry + "/character-media", token, "profile-us").status_code == 500


def test_roster_lists_guildmates_from_two_accounts(client: FlaskClient) -> None:
    token = app_token(client)
    members: dict[tuple[str, str], set[int]] = {}
    for n in (4, 5, 6, 7):
        for c in account(client, n)["characters"]:
            if c["guild"] and c["flavor"] == "" and c["region"] == "us":
                members.setdefault((c["realm"], c["guild"]), set()).add(c["id"])
    shared = [(k, ids) for k, ids in members.items() if len({i // 1000 for i in ids}) >= 2]
    (realm, guild), ids = shared[0]
    guild_slug = quote(guild.lower().replace(" ", "-"))
    roster = js(api(client, f"/data/wow/guild/{realm}/{guild_slug}/roster", token, "profile-us"))
    assert roster["guild"]["name"] == guild
    listed = {m["character"]["id"] for m in roster["members"]}
    assert ids <= listed and len(listed) > len(ids)
    member = roster["members"][0]["character"]
    assert set(member["playable_class"]) == {"key", "id"}
    assert set(member["realm"]) == {"key", "id", "slug"}
    outsider = next(m["character"] for m in roster["members"] if m["character"]["id"] not in ids)
    found = js(api(client, char_path(realm, outsider["name"]), token, "profile-us"))
    assert found["guild"]["name"] == guild
    info = js(api(client, f"/data/wow/guild/{realm}/{guild_slug}", token, "profile-us"))
    assert info["member_count"] == len(listed)


def test_revoke_invalidates_user_tokens(client: FlaskClient) -> None:
    token = user_token(client, 9)
    assert api(client, "/profile/user/wow", token, "profile-us").status_code == 200
    assert js(client.post("/_emulator/accounts/9/revoke")) == {"account": 9, "revoked": 1}
    assert js(api(client, "/profile/user/wow", token, "profile-us")) == UNAUTHORIZED
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/oauth/userinfo", headers=bearer).status_code == 401


def test_faults_timeouts_config_and_reset(client: FlaskClient, sleeps: list[float]) -> None:
    token = app_token(client)
    path = "/data/wow/playable-class/index"
    assert client.post("/_emulator/config", json={"fault_rate": 2}).status_code == 400
    config = js(client.post("/_emulator/config", json={"fault_rate": 1, "latency_ms": 5}))
    assert config["fault_rate"] == 1.0 and config["latency_ms"] == 5
    fault = api(client, path, token, "static-us")
    assert fault.status_code == 503 and js(fault)["type"] == "BLZWEBAPI00000503"
    slow = {"fault_rate": 0, "timeout_rate": 1, "timeout_seconds": 7}
    client.post("/_emulator/config", json=slow)
    assert api(client, path, token, "static-us").status_code == 200
    assert sleeps[-2:] == [0.005, 7.0]
    assert js(client.post("/_emulator/reset"))["config"]["timeout_rate"] == 0.0
    assert api(client, path, token, "static-us").status_code == 401
    assert js(client.get("/_emulator/stats"))["requests"] == 1
    assert js(client.get("/_emulator/health")) == {"ok": True}


def test_an_emulator_started_in_an_outage_answers_503_until_configured_back() -> None:
    env = {"EMULATOR_FAULT_RATE": "1", "BLIZZARD_CLIENT_ID": "test-id"}
    config = EmulatorConfig.from_env({**env, "BLIZZARD_CLIENT_SECRET": "test-secret"})
    client = create_app(state=State(config, sleep=lambda _: None)).test_client()
    path = "/data/wow/playable-class/index"
    token_answers = {client_credentials(client, **basic()).status_code for _ in range(20)}
    api_answers = {api(client, path, "any", "static-us").status_code for _ in range(20)}
    assert token_answers == api_answers == {503}
    client.post("/_emulator/config", json={"fault_rate": 0})
    assert api(client, path, app_token(client), "static-us").status_code == 200


def test_generated_names_round_trip() -> None:
    for char_id in (1001, 100_000_008, 64**5 + 3, 4_000_500):
        assert decode_name(encode_id(char_id).upper()) == char_id
    assert decode_name("Zéphyr") == 1000 and decode_name("nobody") is None
