"""The game data and profile API routes (paths exactly as Blizzard's).

Authentication, rate limiting, latency and faults happen before these run (see app.py);
each view parses its namespace, finds the resource and answers with `respond`.
"""

from __future__ import annotations

from math import ceil

from flask import Blueprint, Response, request

from . import gear, profiles, shapes
from .data import WORLD_EPOCH_MS, Character, Guild
from .gamedata import Namespace, classes_for, races_for
from .realms import connected_realms, realm_by_id, realm_by_slug, realms_for
from .responses import ApiError, current_token, get_state, hrefs, namespace, respond

bp = Blueprint("api", __name__)
STATIC_MODIFIED = WORLD_EPOCH_MS / 1000 - 90 * 86400
MAX_PAGE_SIZE = 1000
#: view -> name used in /_emulator/stats by_endpoint
ENDPOINT_NAMES = {
    "api.class_index": "playable-class-index",
    "api.class_detail": "playable-class",
    "api.race_index": "playable-race-index",
    "api.race_detail": "playable-race",
    "api.realm_index": "realm-index",
    "api.realm_detail": "realm",
    "api.connected_realm_index": "connected-realm-index",
    "api.connected_realm_detail": "connected-realm",
    "api.connected_realm_search": "connected-realm-search",
    "api.account_profile": "account-profile",
    "api.protected_character": "protected-character",
    "api.character_profile": "character-profile",
    "api.character_media": "character-media",
    "api.character_status": "character-status",
    "api.character_equipment": "character-equipment",
    "api.character_specializations": "character-specializations",
    "api.guild": "guild",
    "api.guild_roster": "guild-roster",
}


def _static_modified() -> float:
    return max(STATIC_MODIFIED, get_state().world.floor)


@bp.get("/data/wow/playable-class/index")
def class_index() -> Response:
    ns = namespace("static")
    return respond(_static_modified(), lambda: shapes.class_index(hrefs(ns)))


@bp.get("/data/wow/playable-class/<int:class_id>")
def class_detail(class_id: int) -> Response:
    ns = namespace("static")
    if class_id not in classes_for(ns.flavor):
        raise ApiError(404)
    return respond(_static_modified(), lambda: shapes.class_detail(hrefs(ns), class_id))


@bp.get("/data/wow/playable-race/index")
def race_index() -> Response:
    ns = namespace("static")
    return respond(
        _static_modified(), lambda: shapes.race_index(hrefs(ns), list(races_for(ns.flavor)))
    )


@bp.get("/data/wow/playable-race/<int:race_id>")
def race_detail(race_id: int) -> Response:
    ns = namespace("static")
    if race_id not in races_for(ns.flavor):
        raise ApiError(404)
    return respond(_static_modified(), lambda: shapes.race_detail(hrefs(ns), race_id))


@bp.get("/data/wow/realm/index")
def realm_index() -> Response:
    ns = namespace("dynamic")
    realms = realms_for(ns.region, ns.flavor)
    return respond(_static_modified(), lambda: shapes.realm_index(hrefs(ns), realms))


@bp.get("/data/wow/realm/<slug>")
def realm_detail(slug: str) -> Response:
    ns = namespace("dynamic")
    realm = realm_by_slug(ns.region, ns.flavor, slug)
    if realm is None and slug.isdigit():
        realm = realm_by_id(ns.region, ns.flavor, int(slug))
    if realm is None:
        raise ApiError(404)
    return respond(_static_modified(), lambda: shapes.realm_detail(hrefs(ns), realm))


@bp.get("/data/wow/connected-realm/index")
def connected_realm_index() -> Response:
    ns = namespace("dynamic")
    groups = connected_realms(ns.region, ns.flavor)
    return respond(_static_modified(), lambda: shapes.connected_realm_index(hrefs(ns), groups))


@bp.get("/data/wow/connected-realm/<int:cr_id>")
def connected_realm_detail(cr_id: int) -> Response:
    ns = namespace("dynamic")
    group = next((g for g in connected_realms(ns.region, ns.flavor) if g.id == cr_id), None)
    if group is None:
        raise ApiError(404)
    return respond(_static_modified(), lambda: shapes.connected_realm(hrefs(ns), group))


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, f"{name} must be a positive integer")
    return int(raw)


@bp.get("/data/wow/search/connected-realm")
def connected_realm_search() -> Response:
    ns = namespace("dynamic")
    page, size = _int_arg("_page", 1), min(_int_arg("_pageSize", 100), MAX_PAGE_SIZE)
    descending = request.args.get("orderby", "id").lower().endswith(":desc")
    groups = sorted(connected_realms(ns.region, ns.flavor), key=lambda g: g.id, reverse=descending)
    hr = hrefs(ns)
    return respond(
        _static_modified(),
        lambda: {
            "page": page,
            "pageSize": size,
            "maxPageSize": MAX_PAGE_SIZE,
            "pageCount": ceil(len(groups) / size),
            "results": [
                shapes.search_result(hr, g) for g in groups[(page - 1) * size : page * size]
            ],
        },
    )


def _user_account() -> int:
    token = current_token()
    if token.kind != "user" or token.account is None:
        raise ApiError(403)
    return token.account


def _account_characters(ns: Namespace, n: int) -> list[Character]:
    chars = get_state().world.characters(n)
    return [c for c in chars if (c.region, c.flavor) == (ns.region, ns.flavor)]


@bp.get("/profile/user/wow")
def account_profile() -> Response:
    ns = namespace("profile")
    n = _user_account()
    chars = _account_characters(ns, n)
    if not chars:
        raise ApiError(404)
    by_wow_account: dict[int, list[Character]] = {}
    for char in chars:
        by_wow_account.setdefault(char.wow_account or 0, []).append(char)
    world = get_state().world
    modified = max([world.account_modified(n), *(world.character_modified(c) for c in chars)])
    return respond(
        modified,
        lambda: profiles.account_profile(
            hrefs(ns), 100000 + n, dict(sorted(by_wow_account.items()))
        ),
    )


@bp.get("/profile/user/wow/protected-character/<ident>")
def protected_character(ident: str) -> Response:
    ns = namespace("profile")
    n = _user_account()
    realm_id, _, char_id = ident.partition("-")
    if not (realm_id.isdigit() and char_id.isdigit()):
        raise ApiError(404)
    wanted = (int(realm_id), int(char_id))
    chars = _account_characters(ns, n)
    char = next((c for c in chars if (c.realm.id, c.id) == wanted), None)
    if char is None:
        raise ApiError(404)
    return respond(
        get_state().world.character_modified(char),
        lambda: profiles.protected_character(hrefs(ns), char),
    )


def _character(realm_slug: str, name: str) -> tuple[Namespace, Character]:
    ns = namespace("profile")
    char = get_state().world.find_character(ns.region, ns.flavor, realm_slug, name)
    if char is None or char.inactive:
        raise ApiError(404)
    return ns, char


@bp.get("/profile/wow/character/<realm_slug>/<name>")
def character_profile(realm_slug: str, name: str) -> Response:
    ns, char = _character(realm_slug, name)
    world = get_state().world
    return respond(
        world.character_modified(char),
        lambda: profiles.character_profile(hrefs(ns), char, world.guild_of(char)),
    )


@bp.get("/profile/wow/character/<realm_slug>/<name>/character-media")
def character_media(realm_slug: str, name: str) -> Response:
    ns, char = _character(realm_slug, name)
    if char.media_fails:
        raise ApiError(500)
    return respond(
        get_state().world.character_modified(char),
        lambda: profiles.character_media(hrefs(ns), char),
    )


@bp.get("/profile/wow/character/<realm_slug>/<name>/status")
def character_status(realm_slug: str, name: str) -> Response:
    ns, char = _character(realm_slug, name)
    return respond(
        get_state().world.character_modified(char),
        lambda: profiles.character_status(hrefs(ns), char),
    )


@bp.get("/profile/wow/character/<realm_slug>/<name>/equipment")
def character_equipment(realm_slug: str, name: str) -> Response:
    ns, char = _character(realm_slug, name)
    hr = hrefs(ns)
    return respond(
        get_state().world.character_modified(char),
        lambda: gear.character_equipment(hr, char, profiles.character_ref(hr, char)),
    )


@bp.get("/profile/wow/character/<realm_slug>/<name>/specializations")
def character_specializations(realm_slug: str, name: str) -> Response:
    ns, char = _character(realm_slug, name)
    hr = hrefs(ns)
    return respond(
        get_state().world.character_modified(char),
        lambda: gear.character_specializations(hr, char, profiles.character_ref(hr, char)),
    )


def _guild(realm_slug: str, name_slug: str) -> tuple[Namespace, Guild]:
    ns = namespace("profile")
    realm = realm_by_slug(ns.region, ns.flavor, realm_slug)
    guild = get_state().world.find_guild(realm, name_slug) if realm else None
    if guild is None:
        raise ApiError(404)
    return ns, guild


@bp.get("/data/wow/guild/<realm_slug>/<name_slug>")
def guild(realm_slug: str, name_slug: str) -> Response:
    ns, found = _guild(realm_slug, name_slug)
    world = get_state().world
    return respond(
        world.guild_modified(found),
        lambda: profiles.guild(hrefs(ns), found, len(world.roster(found))),
    )


@bp.get("/data/wow/guild/<realm_slug>/<name_slug>/roster")
def guild_roster(realm_slug: str, name_slug: str) -> Response:
    ns, found = _guild(realm_slug, name_slug)
    world = get_state().world
    return respond(
        world.guild_modified(found),
        lambda: profiles.roster(hrefs(ns), found, world.roster(found)),
    )
