"""rest_api definitions: seed 003's example validates unchanged; every mistake ends in an exact, positioned error."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.spec import load_project
from tests.conftest import errors_for, write_source

SEED_003 = Path(__file__).resolve().parent.parent / "fixtures" / "seed_003_customer_data_api.yaml"

VALID = """
source:
  name: orders_api
  type: rest_api
  config:
    endpoint: https://api.example.com/v1/orders
    headers:
      Accept: application/json
    schedule: rate(15 minutes)
  auth:
    type: bearer
    token: ${SECRET:orders_token}
  pagination:
    type: cursor
    cursor_path: meta.next
  incremental:
    cursor_field: updated_at
    param: updated_since
  schema:
    type: json
    records_path: data
    mapping:
      order_id: id
      customer_id: customer.id
  redshift:
    schema: sales
    table: orders
"""


def variant(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


CASES = [
    ('literal token', variant('token: ${SECRET:orders_token}', 'token: abc123'),
     ['sources/x.yaml:11:12: source.auth.token: write the secret as a reference, e.g. token: ${SECRET:api_token}; secrets must not be written into source files']),
    ('literal header credential', variant('      Accept: application/json', '      Authorization: Bearer abc123'),
     ["sources/x.yaml:7:22: source.config.headers.Authorization: 'Authorization' carries a credential: write it as a reference, e.g. 'Bearer ${SECRET:api_token}'; secrets must not be written into source files"]),
    ('literal api key param', variant('    schedule: rate(15 minutes)', '    params: {api_key: abc123}\n    schedule: rate(15 minutes)'),
     ["sources/x.yaml:8:23: source.config.params.api_key: 'api_key' carries a credential: write it as a reference, e.g. ${SECRET:api_key}; secrets must not be written into source files"]),
    ('bad schedule', variant('rate(15 minutes)', 'every 15 minutes'),
     ['sources/x.yaml:8:15: source.config.schedule: schedule must be rate(N unit) or cron(6 fields), e.g. rate(1 hour) or cron(0 6 * * ? *)']),
    ('rate singular', variant('rate(15 minutes)', 'rate(1 hours)'),
     ['sources/x.yaml:8:15: source.config.schedule: write rate(1 hour): EventBridge wants the singular unit for 1 and the plural otherwise']),
    ('rate plural', variant('rate(15 minutes)', 'rate(2 hour)'),
     ['sources/x.yaml:8:15: source.config.schedule: write rate(2 hours): EventBridge wants the singular unit for 1 and the plural otherwise']),
    ('cron fields', variant('rate(15 minutes)', 'cron(0 6 * * *)'),
     ['sources/x.yaml:8:15: source.config.schedule: cron has 5 fields; EventBridge needs 6 (minutes hours day-of-month month day-of-week year), e.g. cron(0 6 * * ? *)']),
    ('missing schedule', variant('    schedule: rate(15 minutes)\n', ''),
     ["sources/x.yaml:4:3: source.config: missing required key 'schedule'"]),
    ('endpoint not http', variant('https://api.example.com/v1/orders', 'ftp://api.example.com/v1/orders'),
     ["sources/x.yaml:5:15: source.config.endpoint: endpoint must be an http:// or https:// URL, got 'ftp://api.example.com/v1/orders'"]),
    ('unknown pagination type', variant('type: cursor', 'type: pages'),
     ["sources/x.yaml:13:11: source.pagination.type: 'pages' is not valid; choose from: page_number, offset, cursor, next_url, link_header, last_record"]),
    ('cursor missing path', variant('    cursor_path: meta.next\n', ''),
     ["sources/x.yaml:12:3: source.pagination: missing required key 'cursor_path'"]),
    ('pagination typo', variant('    cursor_path: meta.next', '    cursor_path: meta.next\n    cursor_param: c'),
     ["sources/x.yaml:15:5: source.pagination.cursor_param: unknown key 'cursor_param'; did you mean 'cursor_path'? valid keys: has_more_path, max_pages, type, cursor_path, param"]),
    ('page size without param', variant('    type: cursor\n    cursor_path: meta.next', '    type: page_number\n    size: 100'),
     ['sources/x.yaml:13:5: source.pagination: give size_param and size together']),
    ('offset without limit', variant('    type: cursor\n    cursor_path: meta.next', '    type: offset'),
     ["sources/x.yaml:12:3: source.pagination: missing required key 'limit'"]),
    ('max pages zero', variant('    cursor_path: meta.next', '    cursor_path: meta.next\n    max_pages: 0'),
     ['sources/x.yaml:15:16: source.pagination.max_pages: 0 is out of range; at least 1']),
    ('unknown auth type', variant('type: bearer', 'type: digest'),
     ["sources/x.yaml:10:11: source.auth.type: 'digest' is not valid; choose from: api_key, bearer, basic, oauth2_client_credentials"]),
    ('api key location', variant('    type: bearer\n    token: ${SECRET:orders_token}', '    type: api_key\n    name: key\n    location: cookie\n    value: ${SECRET:k}'),
     ["sources/x.yaml:12:15: source.auth.location: 'cookie' is not valid; choose from: header, query"]),
    ('oauth missing token url', variant('    type: bearer\n    token: ${SECRET:orders_token}', '    type: oauth2_client_credentials\n    client_id: abc\n    client_secret: ${SECRET:cs}'),
     ["sources/x.yaml:9:3: source.auth: missing required key 'token_url'"]),
    ('basic literal password', variant('    type: bearer\n    token: ${SECRET:orders_token}', '    type: basic\n    username: svc\n    password: hunter2'),
     ['sources/x.yaml:12:15: source.auth.password: write the secret as a reference, e.g. password: ${SECRET:api_password}; secrets must not be written into source files']),
    ('incremental unquoted date', variant('    param: updated_since', '    param: updated_since\n    initial: 2024-01-01'),
     ["sources/x.yaml:18:14: source.incremental.initial: quote the value so it is sent exactly as written, e.g. initial: '2024-01-01' (unquoted, YAML reads it as a date)"]),
    ('incremental missing param', variant('    param: updated_since\n', ''),
     ["sources/x.yaml:15:3: source.incremental: missing required key 'param'"]),
    ('schema not json', variant('    type: json\n    records_path: data', '    type: jsonl'),
     ['sources/x.yaml:19:11: source.schema.type: a rest_api source reads JSON responses: use type json (records_path selects the records), not jsonl']),
    ('retry deadline', variant('  schema:\n', '  retry:\n    deadline_seconds: 900\n  schema:\n'),
     ['sources/x.yaml:19:23: source.retry.deadline_seconds: 900 is out of range; at most 840']),
    ('retry typo', variant('  schema:\n', '  retry:\n    attempts: 3\n  schema:\n'),
     ["sources/x.yaml:19:5: source.retry.attempts: unknown key 'attempts'; did you mean 'max_attempts'? valid keys: max_attempts, backoff_seconds, max_backoff_seconds, deadline_seconds"]),
    ('body with GET', variant('    schedule: rate(15 minutes)', '    schedule: rate(15 minutes)\n    body: {q: x}'),
     ['sources/x.yaml:5:5: source.config: body is sent only with method POST']),
    ('secret reference bad name', variant('${SECRET:orders_token}', '${SECRET:orders token}'),
     ['sources/x.yaml:11:12: source.auth.token: a secret name may use letters, digits and /_+=.@- only']),
    ('method', variant('    schedule: rate(15 minutes)', '    schedule: rate(15 minutes)\n    method: DELETE'),
     ["sources/x.yaml:9:13: source.config.method: 'DELETE' is not valid; choose from: GET, POST"]),
    ('rps', variant('    schedule: rate(15 minutes)', '    schedule: rate(15 minutes)\n    requests_per_second: 0'),
     ['sources/x.yaml:9:26: source.config.requests_per_second: 0 is out of range; must be above 0']),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES], ids=[c[0] for c in CASES])
def test_invalid_rest_api_source_reports_exact_errors(project, text, expected):
    assert errors_for(project, text) == expected


def test_seed_003_example_validates_unchanged(project):
    (project.sources_dir / "customer_data_api.yaml").write_text(SEED_003.read_text(encoding="utf-8"), encoding="utf-8")
    [source] = load_project(project)
    assert (source.name, source.kind) == ("customer_data_api", "rest_api")
    assert [(c.name, c.source, c.type) for c in source.columns] == [
        ("customerid", "id", "string"), ("customername", "name", "string"), ("customeremail", "email", "string")]
    assert source.definition.config.headers == {"Authorization": "${SECRET:customer_api_key}"}


VALID_BLOCKS = [
    ("page_number", "pagination:\n    type: page_number\n    size_param: per_page\n    size: 50"),
    ("offset", "pagination:\n    type: offset\n    limit: 100\n    total_path: meta.total"),
    ("next_url", "pagination:\n    type: next_url\n    next_url_path: links.next"),
    ("link_header", "pagination:\n    type: link_header\n    max_pages: 50"),
    ("last_record", "pagination:\n    type: last_record\n    has_more_path: has_more"),
    ("api_key query", "auth:\n    type: api_key\n    name: api_key\n    location: query\n    value: ${SECRET:k}"),
    ("basic", "auth:\n    type: basic\n    username: svc\n    password: ${SECRET:pw}"),
    ("oauth2", "auth:\n    type: oauth2_client_credentials\n    token_url: https://auth.example.com/token\n"
               "    client_id: onboard\n    client_secret: ${SECRET:cs}\n    scopes: [orders.read]"),
]


@pytest.mark.parametrize("block", [b for _, b in VALID_BLOCKS], ids=[n for n, _ in VALID_BLOCKS])
def test_each_pagination_and_auth_style_validates(project, block):
    text = VALID.replace("  pagination:\n    type: cursor\n    cursor_path: meta.next\n", "")
    text = text.replace("  auth:\n    type: bearer\n    token: ${SECRET:orders_token}\n", "")
    write_source(project, "x.yaml", text.replace("  schema:\n", f"  {block}\n  schema:\n", 1))
    [source] = load_project(project)
    assert source.kind == "rest_api"


def test_a_literal_secret_is_never_echoed(project):
    errors = errors_for(project, variant("token: ${SECRET:orders_token}", "token: s3cr3t-VALUE"))
    assert len(errors) == 1
    assert "s3cr3t" not in errors[0]
