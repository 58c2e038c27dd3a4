"""`onboard new NAME --from URL` against a real local HTTP server: one GET, and from its answer the records_path,
the pagination (OData's @odata.nextLink, a Link header, a cursor, none) and the columns. A credential header is
sent but written only as a ${SECRET:...} reference."""

from __future__ import annotations

import pytest

from tests.infer.test_new_from_sample import onboard
from tests.runtime.api_server import ApiServer, Reply

USERS = [
    {"@odata.etag": 'W/"1"', "id": "u1", "displayName": "Ada", "manager": {"id": "m1"}, "hired": "Jan 5 2021"},
    {"@odata.etag": 'W/"2"', "id": "u2", "displayName": "Alan", "manager": None, "hired": "Mar 12 2019"},
]

EXPECTED_ODATA = """\
# Inferred by `onboard new` from http://api/v1.0/users: 2 row(s) read.
# read as records under 'value': 2 record(s).
# 1 record(s) lack some keys: those columns are nullable.
# credential headers are written as ${SECRET:...} references: store their values there (never in this file).
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: graph_users
  type: rest_api
  config:
    endpoint: 'http://api/v1.0/users'
    headers:
      Authorization: '${SECRET:graph_users_authorization}'
      X-Tenant: contoso
    params:
      $top: '2'
    schedule: rate(1 hour)  # how often to fetch: change it
  pagination:  # '@odata.nextLink' holds the next page's URL
    type: next_url
    next_url_path: '@odata.nextLink'
  schema:
    type: json
    records_path: value
    columns:
      - {name: odata_etag, type: string(16), nullable: false, source: '"@odata.etag"'}
      - {name: id, type: string(16), nullable: false}  # unique in the sample
      - {name: display_name, type: string(16), nullable: false, source: displayName}
      - {name: manager_id, type: string(16), source: manager.id}
      - {name: hired, type: date, nullable: false, format: 'MMM d yyyy'}  # read as 'MMM d yyyy'
  redshift:
    schema: public
    table: graph_users
    sortkey: hired  # the first date or timestamp column
    load: {mode: merge, keys: [id]}  # suggested: id is unique and non-null in the 2 sample rows; append if it is not the key
"""


def test_an_odata_api_is_inferred_from_its_first_answer(tmp_path):
    (tmp_path / "sources").mkdir()
    with ApiServer().running() as api:
        api.responder = lambda request: Reply(body={
            "@odata.context": api.url("/v1.0/$metadata#users"), "value": USERS,
            "@odata.nextLink": api.url("/v1.0/users?$top=2&$skiptoken=2")})
        result = onboard(tmp_path, "new", "graph_users", "--from", api.url("/v1.0/users?$top=2"),
                         "--header", "Authorization: Bearer s3cr3t", "--header", "X-Tenant: contoso")
        assert result.exit_code == 0, result.output
        assert [(r.path, r.params, r.header("Authorization"), r.header("X-Tenant")) for r in api.seen] == [
            ("/v1.0/users", {"$top": "2"}, "Bearer s3cr3t", "contoso")]
        text = (tmp_path / "sources" / "graph_users.yaml").read_text().replace(api.base_url, "http://api")
    assert text == EXPECTED_ODATA
    assert "s3cr3t" not in text
    assert onboard(tmp_path, "validate").exit_code == 0


@pytest.mark.parametrize(("reply", "pagination"), [
    (Reply(body=[{"id": 1}, {"id": 2}], headers={"Link": '<http://x/items?page=2>; rel="next", <http://x/items?page=9>; rel="last"'}),
     "  pagination:  # the answer's Link header names the next page (rel=\"next\")\n    type: link_header\n"),
    (Reply(body={"data": [{"id": 1}, {"id": 2}], "meta": {"next_cursor": "abc"}}),
     "  pagination:  # 'meta.next_cursor' holds the next cursor; check the query parameter that sends it back\n"
     "    type: cursor\n    cursor_path: meta.next_cursor\n    param: cursor\n"),
    (Reply(body={"items": [{"id": 1}, {"id": 2}], "nextPageToken": "t2"}),
     "  pagination:  # 'nextPageToken' holds the next cursor; check the query parameter that sends it back\n"
     "    type: cursor\n    cursor_path: nextPageToken\n    param: page_token\n"),
    (Reply(body={"results": [{"id": 1}, {"id": 2}], "links": {"next": "/items?page=2"}}),
     "  pagination:  # 'links.next' holds the next page's URL\n    type: next_url\n    next_url_path: links.next\n"),
])
def test_the_pagination_style_is_read_from_the_first_answer(tmp_path, reply, pagination):
    (tmp_path / "sources").mkdir()
    with ApiServer().running() as api:
        api.responder = lambda request: reply
        result = onboard(tmp_path, "new", "items", "--from", api.url("/items"))
        assert result.exit_code == 0, result.output
    text = (tmp_path / "sources" / "items.yaml").read_text()
    assert "    schedule: rate(1 hour)  # how often to fetch: change it\n" + pagination + "  schema:\n" in text
    assert "      - {name: id, type: integer, nullable: false}  # unique in the sample\n" in text


def test_one_page_apis_and_failures(tmp_path):
    (tmp_path / "sources").mkdir()
    with ApiServer().running() as api:
        api.responder = lambda request: Reply(body={"data": [{"id": 1}]})
        assert onboard(tmp_path, "new", "one", "--from", api.url("/one")).exit_code == 0
        api.responder = lambda request: Reply(status=403, body={"error": "no"})
        refused = onboard(tmp_path, "new", "two", "--from", api.url("/two?key=k"))
        api.responder = lambda request: Reply(body={"data": []})
        empty = onboard(tmp_path, "new", "three", "--from", api.url("/three"))
    assert empty.exit_code == 1 and "/three: no records in the answer, nothing to infer the columns from" in \
        empty.output
    assert "# no next page found in the first answer: one request per fetch" not in \
        (tmp_path / "sources" / "one.yaml").read_text()
    assert "  pagination:" not in (tmp_path / "sources" / "one.yaml").read_text()
    assert refused.exit_code == 1
    assert f"GET {api.url('/two')} answered 403 Forbidden" in refused.output and "key=k" not in refused.output.split(
        ": GET")[1]
    assert not (tmp_path / "sources" / "two.yaml").exists()


@pytest.mark.slow
def test_the_inferred_api_source_runs_every_page_with_nothing_quarantined(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ONBOARD_SECRET_GRAPH_USERS_AUTHORIZATION", "Bearer s3cr3t")
    (tmp_path / "sources").mkdir()
    people = USERS + [{"@odata.etag": 'W/"3"', "id": "u3", "displayName": "Grace", "manager": {"id": "m1"},
                       "hired": "Dec 1 2020"}]
    with ApiServer().running() as api:
        def respond(request):
            if request.header("Authorization") != "Bearer s3cr3t":
                return Reply(status=401, body={"error": "no"})
            start = int(request.params.get("$skiptoken", "0"))
            body = {"value": people[start:start + 2]}
            if start + 2 < len(people):
                body["@odata.nextLink"] = api.url(f"/v1.0/users?$top=2&$skiptoken={start + 2}")
            return Reply(body=body)

        api.responder = respond
        assert onboard(tmp_path, "new", "graph_users", "--from", api.url("/v1.0/users?$top=2"),
                       "--header", "Authorization: Bearer s3cr3t").exit_code == 0
        assert onboard(tmp_path, "validate").exit_code == 0
        assert onboard(tmp_path, "generate").exit_code == 0
        result = onboard(tmp_path, "run", "graph_users", "--live", "--json")
        assert result.exit_code == 0, result.output
        assert [r.params for r in api.seen[1:]] == [{"$top": "2"}, {"$top": "2", "$skiptoken": "2"}]
    assert '"rows_in": 3, "rows_loaded": 3, "rows_quarantined": 0' in result.output
    answer = onboard(tmp_path, "query", "--format", "csv",
                     "SELECT id, display_name, manager_id, hired FROM public.graph_users ORDER BY id")
    assert answer.output.splitlines()[1:] == ["u1,Ada,m1,2021-01-05", "u2,Alan,,2019-03-12", "u3,Grace,m1,2020-12-01"]
