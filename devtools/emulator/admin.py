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
