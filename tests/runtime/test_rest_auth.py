"""Auth styles send exactly the right credentials; OAuth2 tokens are cached and renewed once on a 401;
secrets come from Secrets Manager (moto) or local sources, and never appear in a log line or an error."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import parse_qsl

import boto3
import pytest
from moto import mock_aws

from framework.runtime.rest import auth as rest_auth
from framework.runtime.rest.http import FetchError
from framework.runtime.secrets import LocalSecrets, Masker, SecretsManagerSecrets, SecretUnavailable
from tests.runtime.api_server import Reply
from tests.runtime.conftest import SECRETS, raw_objects, rest_config

PAGES = {"1": ([{"id": "o1"}], True), "2": ([{"id": "o2"}], True), "3": ([{"id": "o3"}], False)}
PAGINATION = {"type": "page_number", "param": "page", "start": 1, "has_more_path": "more", "max_pages": 10}


def paged(request) -> Reply:
    records, more = PAGES[request.params["page"]]
    return Reply(body={"data": records, "more": more})


@pytest.mark.parametrize(("auth", "header", "expected"), [
    ({"type": "api_key", "name": "X-Api-Key", "location": "header", "value": "${SECRET:api_key}"},
     "X-Api-Key", SECRETS["api_key"]),
    ({"type": "bearer", "token": "${SECRET:token}"}, "Authorization", "Bearer t0ken-VALUE"),
    ({"type": "basic", "username": "svc", "password": "${SECRET:password}"},
     "Authorization", "Basic " + base64.b64encode(b"svc:pa55-VALUE").decode()),
])
def test_header_credentials_are_sent_on_every_page(api, connector, auth, header, expected):
    api.responder = paged
    connector(rest_config(api.url("/orders"), auth=auth, pagination=PAGINATION)).handle({})
    assert [r.header(header) for r in api.seen] == [expected] * 3


def test_an_api_key_in_the_query_is_sent_on_every_page(api, connector):
    api.responder = paged
    auth = {"type": "api_key", "name": "api_key", "location": "query", "value": "${SECRET:api_key}"}
    connector(rest_config(api.url("/orders"), auth=auth, pagination=PAGINATION)).handle({})
    assert [r.params for r in api.seen] == [{"page": p, "api_key": SECRETS["api_key"]} for p in ("1", "2", "3")]


def test_configured_headers_resolve_their_references(api, connector):
    api.responder = paged
    config = rest_config(api.url("/orders"), pagination=PAGINATION,
                         config={"headers": {"Authorization": "Token ${SECRET:token}", "accept": "application/x+json"}})
    connector(config).handle({})
    assert {(r.header("Authorization"), r.header("Accept")) for r in api.seen} == {("Token t0ken-VALUE",
                                                                                    "application/x+json")}


OAUTH = {"type": "oauth2_client_credentials", "token_url": None, "client_id": "onboard",
         "client_secret": "${SECRET:client_secret}", "scopes": ["orders.read", "orders.list"], "client_auth": "basic",
         "token_params": {"audience": "https://api.example.com"}}


class TokenServer:
    """Issues tok-1, tok-2, ...; the API accepts only the latest issued token."""

    def __init__(self, expires_in: int | None = 3600):
        self.issued = 0
        self.expires_in = expires_in
        self.rejected_once = False

    def __call__(self, request) -> Reply:
        if request.path == "/token":
            self.issued += 1
            body = {"access_token": f"tok-{self.issued}", "token_type": "Bearer"}
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
            return Reply(body=body)
        if request.header("Authorization") != f"Bearer tok-{self.issued}":
            return Reply(401, {"error": "invalid_token"})
        return paged(request)


@pytest.fixture
def oauth(api):
    rest_auth.TOKEN_CACHE.clear()
    yield dict(OAUTH, token_url=api.url("/token"))
    rest_auth.TOKEN_CACHE.clear()


def test_oauth2_fetches_one_token_for_all_pages(api, connector, oauth):
    tokens = TokenServer()
    api.responder = tokens
    connector(rest_config(api.url("/orders"), auth=oauth, pagination=PAGINATION)).handle({})
    assert api.paths() == ["/token", "/orders?page=1", "/orders?page=2", "/orders?page=3"]
    token_request = api.seen[0]
    assert token_request.method == "POST"
    assert token_request.header("Authorization") == "Basic " + base64.b64encode(b"onboard:cl1ent-VALUE").decode()
    assert dict(parse_qsl(token_request.body.decode())) == {
        "grant_type": "client_credentials", "audience": "https://api.example.com", "scope": "orders.read orders.list"}


def test_oauth2_client_credentials_in_the_body(api, connector, oauth):
    api.responder = TokenServer()
    connector(rest_config(api.url("/orders"), auth=dict(oauth, client_auth="body", scopes=[], token_params={}),
                          pagination=PAGINATION)).handle({})
    token_request = api.seen[0]
    assert token_request.header("Authorization") is None
    assert dict(parse_qsl(token_request.body.decode())) == {
        "grant_type": "client_credentials", "client_id": "onboard", "client_secret": "cl1ent-VALUE"}


def test_oauth2_token_is_cached_until_shortly_before_it_expires(api, connector, oauth, clock):
    tokens = TokenServer(expires_in=600)  # renewed 60 s early: usable for 540 s
    api.responder = tokens
    config = rest_config(api.url("/orders"), auth=oauth, pagination=PAGINATION)
    connector(config).handle({})
    clock.now += 539
    connector(config).handle({})
    assert tokens.issued == 1
    clock.now += 1
    connector(config).handle({})
    assert tokens.issued == 2
    assert [p for p in api.paths() if p == "/token"] == ["/token", "/token"]


def test_oauth2_renews_once_on_a_401(api, connector, oauth):
    tokens = TokenServer(expires_in=None)
    api.responder = tokens
    config = rest_config(api.url("/orders"), auth=oauth, pagination=PAGINATION)
    connector(config).handle({})
    tokens.issued += 1  # the server revokes tok-1: only the (not yet issued) tok-2 would be accepted
    [batch] = connector(config).handle({})
    assert api.paths()[4:] == ["/orders?page=1", "/token", "/orders?page=1", "/orders?page=2", "/orders?page=3"]
    assert batch.folder.objects == 3


def test_oauth2_a_second_401_fails_without_another_renewal(api, connector, oauth, lake):
    def respond(request):
        if request.path == "/token":
            return Reply(body={"access_token": "tok-x", "expires_in": 3600})
        return Reply(401, {"error": "invalid_token"})

    api.responder = respond
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"), auth=oauth, pagination=PAGINATION)).handle({})
    assert str(info.value) == f"GET {api.url('/orders')}?page=1 answered HTTP 401 Unauthorized: " \
                              '{"error": "invalid_token"}'
    assert api.paths() == ["/token", "/orders?page=1", "/token", "/orders?page=1"]
    assert raw_objects(lake) == []


def test_oauth2_token_endpoint_errors_are_clear_and_masked(api, connector, oauth):
    api.responder = lambda r: Reply(401, {"error": "invalid_client", "client_secret": "cl1ent-VALUE"})
    with pytest.raises(FetchError) as info:
        connector(rest_config(api.url("/orders"), auth=oauth)).handle({})
    assert str(info.value) == f"POST {api.url('/token')} answered HTTP 401 Unauthorized: " \
                              '{"error": "invalid_client", "client_secret": "***"}'
    assert api.paths() == ["/token"]


def test_no_secret_reaches_a_log_line_an_error_or_the_lake(api, connector, oauth, caplog, lake):
    caplog.set_level(logging.DEBUG)
    calls = iter([Reply(503, {"echo": "cl1ent-VALUE"}), Reply(body={"access_token": "tok-SECRET", "expires_in": 60})])

    def respond(request):
        if request.path == "/token":
            return next(calls)
        if request.params.get("page") == "2":
            return Reply(500, {"token": request.header("Authorization")})
        return paged(request)

    api.responder = respond
    config = rest_config(api.url("/orders"), auth=oauth, pagination=PAGINATION,
                         config={"params": {"key": "${SECRET:api_key}"}})
    with pytest.raises(FetchError) as info:
        connector(config).handle({})
    shown = caplog.text + str(info.value) + "".join(lake.get("raw", k).decode() for k in raw_objects(lake))
    assert "GET " + api.url("/orders") + "?key=***&page=2" in caplog.text
    for secret in (*SECRETS.values(), "tok-SECRET", base64.b64encode(b"onboard:cl1ent-VALUE").decode()):
        assert secret not in shown


def test_secrets_manager_supplies_secrets_when_deployed(api, connector):
    api.responder = paged
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(Name="prod/orders/token", SecretString="sm-t0ken")
        secrets = SecretsManagerSecrets(client)
        config = rest_config(api.url("/orders"), auth={"type": "bearer", "token": "${SECRET:prod/orders/token}"},
                             pagination=PAGINATION)
        connector(config, secrets=secrets).handle({})
        with pytest.raises(SecretUnavailable) as info:
            secrets("prod/orders/missing")
    assert {r.header("Authorization") for r in api.seen} == {"Bearer sm-t0ken"}
    assert str(info.value) == "secret 'prod/orders/missing' cannot be read from Secrets Manager: " \
                              "ResourceNotFoundException"


def test_local_secrets_come_from_the_environment_then_the_secrets_file(tmp_path, monkeypatch):
    file = tmp_path / ".secrets.json"
    file.write_text(json.dumps({"orders/token": "from-file", "other": "file-only"}))
    monkeypatch.setenv("ONBOARD_SECRET_ORDERS_TOKEN", "from-env")
    secrets = LocalSecrets(file)
    assert (secrets("orders/token"), secrets("other")) == ("from-env", "file-only")
    with pytest.raises(SecretUnavailable) as info:
        secrets("absent")
    assert str(info.value) == f"secret 'absent' is not available: set ONBOARD_SECRET_ABSENT or add \"absent\" to {file}"
    file.write_text('{"broken": "s3cr3t"')
    with pytest.raises(SecretUnavailable) as info:
        secrets("broken")
    assert str(info.value) == f"{file} is not a JSON object of secret names to values"


def test_the_masker_hides_encoded_forms():
    masker = Masker(["a b/c+d"])
    assert masker("raw a b/c+d, quoted a%20b%2Fc%2Bd, plus a+b%2Fc%2Bd") == "raw ***, quoted ***, plus ***"


def test_credentials_follow_a_redirect_only_within_the_same_origin(api, connector):
    from tests.runtime.api_server import ApiServer

    with ApiServer().running() as elsewhere:
        elsewhere.responder = lambda r: Reply(body={"data": [{"id": "moved"}]})

        def respond(request):
            if request.path == "/orders":
                return Reply(302, {}, {"Location": "/v2/orders"})
            return Reply(302, {}, {"Location": elsewhere.url("/orders")})

        api.responder = respond
        auth = {"type": "bearer", "token": "${SECRET:token}"}
        [batch] = connector(rest_config(api.url("/orders"), auth=auth)).handle({})
    assert [(r.path, r.header("Authorization")) for r in api.seen] == [
        ("/orders", "Bearer t0ken-VALUE"), ("/v2/orders", "Bearer t0ken-VALUE")]
    assert [(r.path, r.header("Authorization")) for r in elsewhere.seen] == [("/orders", None)]
    assert batch.folder.objects == 1


def test_a_post_sends_its_json_body_with_references_resolved(api, connector):
    api.responder = lambda r: Reply(body={"data": [{"id": "o1"}]})
    config = rest_config(api.url("/search"), config={
        "method": "POST", "body": {"filter": {"status": "open"}, "key": "${SECRET:api_key}", "limit": 50}})
    connector(config).handle({})
    [request] = api.seen
    assert (request.method, request.header("Content-Type")) == ("POST", "application/json")
    assert json.loads(request.body) == {"filter": {"status": "open"}, "key": SECRETS["api_key"], "limit": 50}
