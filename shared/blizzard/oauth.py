"""Battle.net's OAuth host (`base`: `LoginService` sends the browser to its `/authorize`):
the token endpoint (the app's client credentials and a user's authorization code, with
PKCE) and userinfo.

These are OAuth-host calls, not API requests: they go through the single send but never
wait for the budget nor report to the circuit breaker. The token endpoint takes the client
id and secret as HTTP Basic auth (never in a URL or a log). A client-credentials request and
userinfo are retried like any call; an authorization code is single-use, so its exchange is
tried once.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from shared.blizzard.auth import BearerAuth
from shared.blizzard.models import TokenResponse, UserInfo
from shared.blizzard.regions import Region, oauth_base
from shared.blizzard.retry import RetryPolicy
from shared.blizzard.transport import Transport, parse, raise_for_status
from shared.settings import Settings


class OAuthClient:
    def __init__(self, settings: Settings, transport: Transport, retry: RetryPolicy) -> None:
        self.settings = settings
        self.transport = transport
        self.retry = retry

    def base(self, region: Region) -> str:
        """The OAuth host of `region` (one place computes it: `regions.oauth_base`)."""
        return oauth_base(self.settings.blizzard_oauth_url, region)

    def request_token(self, form: Mapping[str, str], region: Region) -> TokenResponse:
        """POST /token with HTTP Basic client auth. Retried for client credentials; an
        authorization code is single-use, so never retried."""
        url = self.base(region) + "/token"
        auth = httpx.BasicAuth(self.settings.client_id, self.settings.client_secret)

        def attempt() -> TokenResponse:
            response = self.transport.send("POST", url, data=dict(form), auth=auth)
            raise_for_status(response, url, region, None)
            return parse(TokenResponse, response, url, region)

        if form.get("grant_type") == "client_credentials":
            return self.retry.run(attempt)
        return attempt()

    def client_credentials(self, region: Region) -> TokenResponse:
        """A new app token (`AppTokenAuth` caches and renews it)."""
        return self.request_token({"grant_type": "client_credentials"}, region)

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str, region: Region
    ) -> TokenResponse:
        """A user's token for the authorization code of their login (PKCE verifier)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self.request_token(form, region)

    def userinfo(self, user_token: str, region: Region) -> UserInfo:
        """Who the user's token belongs to (account id and BattleTag)."""
        url = self.base(region) + "/userinfo"

        def attempt() -> UserInfo:
            response = self.transport.send("GET", url, auth=BearerAuth(user_token))
            raise_for_status(response, url, region, None)
            return parse(UserInfo, response, url, region)

        return self.retry.run(attempt)
