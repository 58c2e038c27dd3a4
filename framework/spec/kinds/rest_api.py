"""`type: rest_api`: a JSON HTTP API pulled on a schedule, with auth, pagination and incremental state."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from framework.spec.models import Incremental, Retry, SourceBase, StrictModel
from framework.spec.references import REFERENCE

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(([^()]*)\)$")
# Header and query parameter names whose values are credentials: they must be references.
_CREDENTIAL_NAMES = ("authorization", "cookie")
_CREDENTIAL_WORDS = ("key", "token", "secret", "password", "auth", "signature")
SECRET_HINT = "secrets must not be written into source files"


def is_reference_to_secret(value: str) -> bool:
    """True when the value takes its secret part from `${SECRET:...}` or `${ENV:...}`."""
    return any(m.group(1) in ("SECRET", "ENV") for m in REFERENCE.finditer(value))


def _secret_field(value: str, example: str) -> str:
    if not is_reference_to_secret(value):
        raise ValueError(f"write the secret as a reference, e.g. {example}; {SECRET_HINT}")
    return value


def names_a_credential(name: str) -> bool:
    folded = name.lower()
    return folded in _CREDENTIAL_NAMES or any(word in folded for word in _CREDENTIAL_WORDS)


def schedule_problem(value: str) -> str | None:
    """Why `value` is not an EventBridge schedule expression, or None."""
    rate = _RATE.match(value)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count == 0:
            return "a rate must be at least 1, e.g. rate(1 hour)"
        if (count == 1) != (not unit.endswith("s")):
            fixed = unit.rstrip("s") if count == 1 else unit + "s"
            return f"write rate({count} {fixed}): EventBridge wants the singular unit for 1 and the plural otherwise"
        return None
    cron = _CRON.match(value)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            return (f"cron has {len(fields)} fields; EventBridge needs 6 (minutes hours day-of-month month "
                    "day-of-week year), e.g. cron(0 6 * * ? *)")
        return None
    return "schedule must be rate(N unit) or cron(6 fields), e.g. rate(1 hour) or cron(0 6 * * ? *)"


class RestApiConfig(StrictModel):
    endpoint: str = Field(description="URL of the first page (http or https; references allowed).",
                          examples=["https://api.example.com/customers", "${ENV:ONBOARD_LOCAL_API}/v1/reviews"])
    method: Literal["GET", "POST"] = Field("GET", description="HTTP method of every page request.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers; credentials only as ${SECRET:name} references.",
        examples=[{"Accept": "application/json", "Authorization": "${SECRET:customer_api_key}"}])
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Query parameters sent with every page request.",
        examples=[{"status": "active", "limit": 100}])
    body: dict[str, Any] | None = Field(None, description="JSON body of a POST request (the same for every page).")
    schedule: str = Field(description="EventBridge schedule that triggers a fetch: rate(...) or cron(...).",
                          examples=["rate(1 hour)", "cron(0 6 * * ? *)"])
    timeout_seconds: float = Field(30.0, gt=0, le=300, description="Time limit of one HTTP request.")
    requests_per_second: float | None = Field(
        None, gt=0, le=1000, description="Rate limit: at most this many requests per second (retries included).")

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "${")):
            raise ValueError(f"endpoint must be an http:// or https:// URL, got '{value[:60]}'")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        problem = schedule_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _body_needs_post(self) -> RestApiConfig:
        if self.body is not None and self.method != "POST":
            raise ValueError("body is sent only with method POST")
        return self


# ------------------------------------------------------------------------------------------------ auth


class ApiKeyAuth(StrictModel):
    """An API key sent in a header or a query parameter."""

    type: Literal["api_key"]
    name: str = Field(description="Header or query parameter name.", examples=["X-API-Key", "api_key"])
    location: Literal["header", "query"] = Field("header", description="Where the key goes.")
    value: str = Field(description="The key, as a reference.", examples=["${SECRET:shop_api_key}"])

    @field_validator("value")
    @classmethod
    def _secret(cls, value: str) -> str:
        return _secret_field(value, "value: ${SECRET:shop_api_key}")


class BearerAuth(StrictModel):
    """`Authorization: Bearer <token>`."""

    type: Literal["bearer"]
    token: str = Field(description="The token, as a reference.", examples=["${SECRET:api_token}"])

    @field_validator("token")
    @classmethod
    def _secret(cls, value: str) -> str:
        return _secret_field(value, "token: ${SECRET:api_token}")


class BasicAuth(StrictModel):
    """HTTP basic authentication."""

    type: Literal["basic"]
    username: str = Field(description="User name (plain text or a reference).")
    password: str = Field(description="Password, as a reference.", examples=["${SECRET:api_password}"])

    @field_validator("password")
    @classmethod
    def _secret(cls, value: str) -> str:
        return _secret_field(value, "password: ${SECRET:api_password}")


class OAuth2ClientCredentials(StrictModel):
    """OAuth2 client credentials grant: a token from `token_url`, cached until it expires, renewed once on a 401."""

    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(description="The authorization server's token endpoint.",
                           examples=["https://auth.example.com/oauth/token"])
    client_id: str = Field(description="Client id (plain text or a reference).")
    client_secret: str = Field(description="Client secret, as a reference.", examples=["${SECRET:api_client_secret}"])
    scopes: list[str] = Field(default_factory=list, description="Scopes requested (sent space-separated).")
    client_auth: Literal["basic", "body"] = Field(
        "basic", description="Send the client credentials as HTTP basic auth (RFC 6749's default) or in the form body.")
    token_params: dict[str, str] = Field(default_factory=dict, description="Extra form fields, e.g. audience.",
                                         examples=[{"audience": "https://api.example.com"}])

    @field_validator("client_secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        return _secret_field(value, "client_secret: ${SECRET:api_client_secret}")

    @field_validator("token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return RestApiConfig._http_url(value)


Auth = Annotated[ApiKeyAuth | BearerAuth | BasicAuth | OAuth2ClientCredentials, Field(discriminator="type")]


# ------------------------------------------------------------------------------------------ pagination


class _PaginationBase(StrictModel):
    has_more_path: str | None = Field(
        None, description="Dotted path to a boolean in the body; false (or absent) ends the pagination.",
        examples=["has_more", "meta.has_next"])
    max_pages: int = Field(10_000, ge=1, le=999_999, description="Guard against runaway loops: a fetch that "
                           "would need more pages fails and lands nothing.")


class PageNumberPagination(_PaginationBase):
    """`?page=1`, `?page=2`, ... until an empty page."""

    type: Literal["page_number"]
    param: str = Field("page", description="Query parameter of the page number.")
    start: int = Field(1, ge=0, description="Number of the first page.")
    size_param: str | None = Field(None, description="Query parameter of the page size.", examples=["per_page"])
    size: int | None = Field(None, ge=1, description="Page size sent as size_param.")

    @model_validator(mode="after")
    def _size_pair(self) -> PageNumberPagination:
        if (self.size_param is None) != (self.size is None):
            raise ValueError("give size_param and size together")
        return self


class OffsetPagination(_PaginationBase):
    """`?offset=0&limit=100`, then the offset advances by the records received."""

    type: Literal["offset"]
    param: str = Field("offset", description="Query parameter of the offset.")
    start: int = Field(0, ge=0, description="Offset of the first page.")
    limit_param: str = Field("limit", description="Query parameter of the page size.")
    limit: int = Field(ge=1, description="Page size.")
    total_path: str | None = Field(None, description="Dotted path to the total record count; the pagination "
                                   "ends when the offset reaches it.", examples=["meta.total"])


class CursorPagination(_PaginationBase):
    """The body names the next page's cursor; it is sent back as a query parameter."""

    type: Literal["cursor"]
    cursor_path: str = Field(description="Dotted path to the next cursor in the body; null or absent ends it.",
                             examples=["meta.next_cursor"])
    param: str = Field("cursor", description="Query parameter that sends the cursor.")


class NextUrlPagination(_PaginationBase):
    """The body holds the URL of the next page."""

    type: Literal["next_url"]
    next_url_path: str = Field(description="Dotted path to the next page's URL (absolute or relative); null or "
                               "absent ends it. A key named literally is that key (OData's '@odata.nextLink').",
                               examples=["links.next", "next", "@odata.nextLink"])


class LinkHeaderPagination(_PaginationBase):
    """The `Link` response header (RFC 8288) names the next page with rel="next" (GitHub style)."""

    type: Literal["link_header"]


class LastRecordPagination(_PaginationBase):
    """A field of the page's last record is sent as a parameter (Stripe's `starting_after`)."""

    type: Literal["last_record"]
    field: str = Field("id", description="Dotted path inside a record.")
    param: str = Field("starting_after", description="Query parameter that sends the last record's field.")


Pagination = Annotated[
    PageNumberPagination | OffsetPagination | CursorPagination | NextUrlPagination | LinkHeaderPagination
    | LastRecordPagination,
    Field(discriminator="type"),
]
PAGINATION_TYPES = ("page_number", "offset", "cursor", "next_url", "link_header", "last_record")


class RestApiSource(SourceBase):
    type: Literal["rest_api"]
    config: RestApiConfig
    auth: Auth | None = Field(None, description="How requests authenticate (default: only the configured headers).")
    pagination: Pagination | None = Field(None, description="How the next page is requested (default: one request).")
    incremental: Incremental | None = Field(None, description="Fetch only records changed since the last batch.")
    retry: Retry = Field(default_factory=Retry)

    def kind_problems(self) -> list[tuple[tuple[str | int, ...], str, bool]]:
        found: list[tuple[tuple[str | int, ...], str, bool]] = []
        if self.schema_.type != "json":
            found.append((("source", "schema", "type"), f"a rest_api source reads JSON responses: use type json "
                          f"(records_path selects the records), not {self.schema_.type}", False))
        for block, values in (("headers", self.config.headers), ("params", self.config.params)):
            for name, value in values.items():
                if names_a_credential(name) and not (isinstance(value, str) and is_reference_to_secret(value)):
                    example = "'Bearer ${SECRET:api_token}'" if name.lower() == "authorization" \
                        else "${SECRET:api_key}"
                    found.append((("source", "config", block, name),
                                  f"'{name}' carries a credential: write it as a reference, e.g. {example}; "
                                  f"{SECRET_HINT}", False))
        return found
