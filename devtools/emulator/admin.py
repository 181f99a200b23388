"""Admin routes under /_emulator (no auth): health, config, reset, stats, accounts.

Errors are `{"error": "..."}`; they are never counted in the stats.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from .data import Account
from .overrides import OverrideError, character_json, parse_characters
from .responses import get_state

bp = Blueprint("admin", __name__, url_prefix="/_emulator")


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> Response:
        response = jsonify({"error": self.message})
        response.status_code = self.status
        return response


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise AdminError(400, "body must be a JSON object")
    return body


def _config_json() -> dict[str, Any]:
    config = get_state().config
    return {**config.public(), "client_id": config.client_id}


def _account_number(n: int) -> int:
    if n < 1:
        raise AdminError(404, "accounts are numbered from 1")
    return n


def _account_json(n: int) -> dict[str, Any]:
    world = get_state().world
    account = Account(n)
    chars = []
    for char in world.characters(n):
        guild = world.guild_of(char)
        chars.append(character_json(char, guild.id if guild else None))
    return {
        "n": n,
        "id": account.id,
        "battletag": account.battletag,
        "wow_accounts": list(account.wow_account_ids),
        "overridden": world.is_overridden(n),
        "characters": chars,
    }


@bp.get("/health")
def health() -> Response:
    return jsonify({"ok": True})


@bp.get("/config")
def get_config() -> Response:
    return jsonify(_config_json())


@bp.post("/config")
def set_config() -> Response:
    try:
        get_state().configure(_body())
    except ValueError as exc:
        raise AdminError(400, str(exc)) from exc
    return jsonify(_config_json())


@bp.post("/reset")
def reset() -> Response:
    get_state().reset()
    return jsonify({"ok": True, "config": _config_json()})


@bp.get("/stats")
def stats() -> Response:
    return jsonify(get_state().stats_json())


@bp.post("/stats/reset")
def reset_stats() -> Response:
    get_state().reset_stats()
    return jsonify(get_state().stats_json())


@bp.get("/accounts/<int:n>")
def get_account(n: int) -> Response:
    return jsonify(_account_json(_account_number(n)))


@bp.put("/accounts/<int:n>")
def put_account(n: int) -> Response:
    n = _account_number(n)
    world = get_state().world
    try:
        chars = parse_characters(n, _body(), world.generated(n))
    except OverrideError as exc:
        raise AdminError(400, str(exc)) from exc
    world.set_characters(n, chars)
    return jsonify(_account_json(n))


@bp.delete("/accounts/<int:n>")
def restore_account(n: int) -> Response:
    get_state().world.set_characters(_account_number(n), None)
    return jsonify(_account_json(n))


@bp.get("/accounts/<int:n>/tokens")
def tokens(n: int) -> Response:
    return jsonify({"account": n, "tokens": get_state().tokens_of(_account_number(n))})


@bp.post("/accounts/<int:n>/revoke")
def revoke(n: int) -> Response:
    revoked = get_state().revoke(_account_number(n))
    return jsonify({"account": n, "revoked": revoked})


@bp.post("/accounts/<int:n>/password")
def change_password(n: int) -> Response:
    """A password change: like revoke, every token and pending code of the account dies."""
    revoked = get_state().revoke(_account_number(n))
    return jsonify({"account": n, "password_changed": True, "revoked": revoked})


#: POST /_emulator/population: field -> (type, minimum, maximum)
POPULATION_FIELDS: dict[str, tuple[type, float, float]] = {
    "guilds": (int, 1, 10_000),
    "members": (int, 1, 10_000),
    "active_share": (float, 0.0, 1.0),
    "seed": (int, -(2**63), 2**63),
}


def _population_args(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(POPULATION_FIELDS))
    if unknown:
        raise AdminError(400, f"unknown fields {unknown}; known: {sorted(POPULATION_FIELDS)}")
    args: dict[str, Any] = {"seed": get_state().config.seed, "active_share": 0.2}
    for name, (kind, low, high) in POPULATION_FIELDS.items():
        if name not in body:
            if name not in args:
                raise AdminError(400, f"{name} is required")
            continue
        value = body[name]
        ok = not isinstance(value, bool) and isinstance(value, (int, float))
        if not ok or (kind is int and value != int(value)) or not low <= value <= high:
            raise AdminError(400, f"{name} must be a number between {low} and {high}")
        args[name] = kind(value)
    return args


@bp.post("/population")
def create_population() -> Response:
    """Guilds of roster-only members, some active (see population.py); the answer lists what
    a benchmark stores as known characters and guilds."""
    args = _population_args(_body())
    world = get_state().world
    with world.lock:
        return jsonify(world.create_population(**args).summary(world.floor))


@bp.get("/population")
def get_population() -> Response:
    world = get_state().world
    with world.lock:
        population = world.current_population()
        if population is None:
            raise AdminError(404, "no population: POST /_emulator/population first")
        return jsonify(population.summary(world.floor))
