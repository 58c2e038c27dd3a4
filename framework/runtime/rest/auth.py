"""How each request authenticates: API key, bearer token, HTTP basic or OAuth2 client credentials.

Every credential is registered with the masker as soon as it is known, so no message can show it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from framework.runtime.rest.http import FetchError, HttpClient
from framework.runtime.secrets import Masker

Resolve = Callable[[str], str]


class Auth:
    """No authentication beyond the configured headers."""

    def headers(self) -> dict[str, str]:
        return {}

    def params(self) -> list[tuple[str, str]]:
        return []

    def renew(self) -> bool:
        """Replace a rejected credential; True when a request is worth one more try."""
        return False


class ApiKey(Auth):
    def __init__(self, name: str, location: str, value: str):
        self.name, self.location, self.value = name, location, value

    def headers(self) -> dict[str, str]:
        return {self.name: self.value} if self.location == "header" else {}

    def params(self) -> list[tuple[str, str]]:
        return [(self.name, self.value)] if self.location == "query" else []


class Bearer(Auth):
    def __init__(self, token: str):
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def basic_credentials(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class Basic(Auth):
    def __init__(self, username: str, password: str, masker: Masker):
        self.value = basic_credentials(username, password)
        masker.add(self.value)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self.value}"}


@dataclass
class _Token:
    value: str
    expires_at: float | None  # monotonic seconds; None: until the API rejects it


# Tokens outlive one fetch in a warm Lambda: keyed by token URL, client id and scopes.
TOKEN_CACHE: dict[tuple[str, str, tuple[str, ...]], _Token] = {}


class OAuth2ClientCredentials(Auth):
    """A bearer token from the token endpoint, cached until shortly before it expires and renewed once
    when the API answers 401."""

    def __init__(self, spec: dict[str, Any], resolve: Resolve, client: HttpClient, masker: Masker,
                 cache: dict[tuple[str, str, tuple[str, ...]], _Token] | None = None):
        self.token_url = resolve(spec["token_url"])
        self.client_id = resolve(spec["client_id"])
        self.client_secret = resolve(spec["client_secret"])
        self.scopes = tuple(spec.get("scopes") or ())
        self.client_auth = spec.get("client_auth") or "basic"
        self.token_params = {k: resolve(v) for k, v in (spec.get("token_params") or {}).items()}
        self.client = client
        self.masker = masker
        self.cache = TOKEN_CACHE if cache is None else cache
        self.key = (self.token_url, self.client_id, self.scopes)
        self.tokens_fetched = 0
        if self.key in self.cache:
            masker.add(self.cache[self.key].value)

    def headers(self) -> dict[str, str]:
        token = self.cache.get(self.key)
        now = self.client.timing.monotonic()
        if token is None or (token.expires_at is not None and now >= token.expires_at):
            token = self._fetch()
        return {"Authorization": f"Bearer {token.value}"}

    def renew(self) -> bool:
        self.cache.pop(self.key, None)
        return True

    def _fetch(self) -> _Token:
        form = {"grant_type": "client_credentials", **self.token_params}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.client_auth == "basic":
            credentials = basic_credentials(self.client_id, self.client_secret)
            self.masker.add(credentials)
            headers["Authorization"] = f"Basic {credentials}"
        else:
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        started = self.client.timing.monotonic()
        response = self.client.send("POST", self.token_url, headers, urlencode(form).encode())
        self.tokens_fetched += 1
        try:
            document = json.loads(response.body)
            value = document["access_token"]
        except (ValueError, KeyError, TypeError):
            raise FetchError(f"the OAuth2 token response from {self.masker(self.token_url)} has no access_token") \
                from None
        self.masker.add(value)
        expires_in = document.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            # Renew a little early: a token that expires in flight would cost a 401 and a retry.
            expires_at = started + max(0.0, expires_in - min(60.0, expires_in * 0.1))
        token = _Token(value, expires_at)
        self.cache[self.key] = token
        return token


def auth_from_config(spec: dict[str, Any] | None, resolve: Resolve, client: HttpClient, masker: Masker) -> Auth:
    if spec is None:
        return Auth()
    kind = spec["type"]
    if kind == "api_key":
        return ApiKey(spec["name"], spec.get("location") or "header", resolve(spec["value"]))
    if kind == "bearer":
        return Bearer(resolve(spec["token"]))
    if kind == "basic":
        return Basic(resolve(spec["username"]), resolve(spec["password"]), masker)
    if kind == "oauth2_client_credentials":
        return OAuth2ClientCredentials(spec, resolve, client, masker)
    raise ValueError(f"unknown auth type '{kind}'; known: api_key, basic, bearer, oauth2_client_credentials")
