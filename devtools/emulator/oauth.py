"""OAuth routes under /oauth: authorize (with the emulator-only `user=N`), token, userinfo."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from .data import Account
from .responses import get_state

bp = Blueprint("oauth", __name__, url_prefix="/oauth")
DEFAULT_SCOPE = "openid wow.profile"


class OAuthError(Exception):
    """An OAuth error answer: `{"error", "error_description"}` with a status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error, description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> Response:
        response = jsonify({"error": self.error, "error_description": self.description})
        response.status_code = self.status
        if self.status == 401:
            scheme = "Basic" if self.error == "invalid_client" else "Bearer"
            response.headers["WWW-Authenticate"] = f'{scheme} realm="bnet-emulator"'
        return response


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _login_page() -> Response:
    url = html.escape(request.url)
    page = (
        "<!doctype html><title>Battle.net emulator login</title>"
        "<h1>Battle.net emulator</h1>"
        "<p>This local emulator has no login form. Add <code>&amp;user=N</code> to this URL "
        "to log in as account N (any N &ge; 1), or <code>&amp;deny=1</code> to refuse.</p>"
        f'<p><a href="{url}&amp;user=1">Log in as account 1</a> &middot; '
        f'<a href="{url}&amp;deny=1">Deny</a></p>'
    )
    return Response(page, mimetype="text/html")


@bp.get("/authorize")
def authorize() -> BaseResponse:
    config, args = get_state().config, request.args
    if args.get("client_id") != config.client_id:
        raise OAuthError(400, "invalid_client", "unknown client_id")
    if args.get("response_type") != "code":
        raise OAuthError(400, "unsupported_response_type", "response_type must be code")
    redirect_uri, state = args.get("redirect_uri"), args.get("state")
    if not redirect_uri:
        raise OAuthError(400, "invalid_request", "redirect_uri is required")
    if not state:
        raise OAuthError(400, "invalid_request", "state is required")
    challenge = args.get("code_challenge") or None
    if challenge and args.get("code_challenge_method", "S256") != "S256":
        raise OAuthError(400, "invalid_request", "code_challenge_method must be S256")
    if args.get("deny") == "1":
        target = _with_query(
            redirect_uri,
            error="access_denied",
            error_description="The user denied the authorization request",
            state=state,
        )
        return redirect(target, 302)
    user = args.get("user")
    if user is None:
        return _login_page()
    if not user.isdigit() or int(user) < 1:
        raise OAuthError(400, "invalid_request", "user must be an account number >= 1")
    scope = args.get("scope") or DEFAULT_SCOPE
    code = get_state().new_code(redirect_uri, scope, int(user), challenge)
    return redirect(_with_query(redirect_uri, code=code, state=state), 302)


def _check_client() -> None:
    auth = request.authorization
    config = get_state().config
    if auth is None or auth.type != "basic":
        raise OAuthError(401, "invalid_client", "client authentication by HTTP Basic required")
    given = (unquote(auth.username or ""), unquote(auth.password or ""))
    if given != (config.client_id, config.client_secret):
        raise OAuthError(401, "invalid_client", "bad client credentials")


def _id_token(account: int, client_id: str, issued: float, ttl: int) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "bnet-emulator"}
    claims = {
        "iss": request.host_url.rstrip("/") + "/oauth",
        "sub": str(account),
        "aud": client_id,
        "iat": int(issued),
        "exp": int(issued) + ttl,
        "battle_tag": Account(account - 100000).battletag,
    }
    parts = [json.dumps(p, separators=(",", ":")).encode() for p in (header, claims)]
    return ".".join([*map(_b64, parts), _b64(b"not-a-real-signature")])


@bp.post("/token")
def token() -> Response:
    _check_client()
    st, form = get_state(), request.form
    grant_type = form.get("grant_type")
    ttl = st.config.token_ttl
    body: dict[str, Any]
    if grant_type == "client_credentials":
        issued = st.issue_token("app")
        body = {"access_token": issued.value, "token_type": "bearer", "expires_in": ttl}
        body["sub"] = st.config.client_id
        return jsonify(body)
    if grant_type != "authorization_code":
        raise OAuthError(400, "unsupported_grant_type", f"unsupported grant_type {grant_type!r}")
    grant = st.code(form.get("code", ""))
    if grant is None:
        raise OAuthError(400, "invalid_grant", "unknown, used or expired authorization code")
    if form.get("redirect_uri") != grant.redirect_uri:
        raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorize request")
    if grant.challenge and s256(form.get("code_verifier", "")) != grant.challenge:
        raise OAuthError(400, "invalid_grant", "code_verifier does not match code_challenge")
    if not st.mark_used(grant):
        raise OAuthError(400, "invalid_grant", "authorization code already used")
    issued = st.issue_token("user", grant.account, grant.scope)
    account_id = 100000 + grant.account
    return jsonify(
        {
            "access_token": issued.value,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": grant.scope,
            "sub": str(account_id),
            "id_token": _id_token(account_id, st.config.client_id, st.clock(), ttl),
        }
    )


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    found = get_state().token(value.strip()) if scheme.lower() == "bearer" else None
    if found is None or found.kind != "user" or found.account is None:
        raise OAuthError(401, "invalid_token", "a valid user access token is required")
    account = Account(found.account)
    return jsonify({"sub": str(account.id), "id": account.id, "battletag": account.battletag})
