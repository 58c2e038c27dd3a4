"""An API shaped like Microsoft Graph (every OData API): records under `value`, the next page at
`@odata.nextLink` as an absolute URL carrying `$skiptoken`, `@odata.*` keys inside records. Through the CLI:
validate, generate, run --live (connector, Glue job on Spark, DuckDB) and query, with exact requests and rows."""

from __future__ import annotations

import json

import pytest

from framework.project import Project
from tests.conftest import write_source
from tests.e2e.test_examples import run_cli, summaries
from tests.runtime.api_server import ApiServer, Reply

pytestmark = pytest.mark.slow

SOURCE = """
source:
  name: graph_users
  type: rest_api
  config:
    endpoint: ${ENV:GRAPH_API}/v1.0/users
    params: {$top: 2, $select: 'id,displayName,manager'}
    schedule: rate(1 hour)
  pagination:
    type: next_url
    next_url_path: '@odata.nextLink'
  schema:
    type: json
    records_path: value
    mapping:
      id: id
      display_name: displayName
      etag: '@odata.etag'
      manager_ref: 'manager."@odata.id"'
      manager_id: manager.id
  redshift:
    schema: directory
    table: users
    load: {mode: merge, keys: [id]}
"""

USERS = [
    {"@odata.etag": 'W/"1"', "id": "u1", "displayName": "Ada",
     "manager": {"@odata.id": "https://graph.example/users/m1", "id": "m1"}},
    {"@odata.etag": 'W/"2"', "id": "u2", "displayName": "Alan", "manager": None},
    {"@odata.etag": 'W/"3"', "id": "u3", "displayName": "Grace",
     "manager": {"@odata.id": "https://graph.example/users/m2", "id": "m2"}},
    {"@odata.etag": 'W/"4"', "id": "u4", "displayName": "Edsger"},
    {"@odata.etag": 'W/"5"', "id": "u5", "displayName": "Barbara",
     "manager": {"@odata.id": "https://graph.example/users/m1", "id": "m1"}},
]


def test_a_graph_shaped_api_pages_by_odata_next_link(tmp_path, monkeypatch):
    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    (tmp_path / "sources").mkdir()
    project = Project.at(tmp_path)
    write_source(project, "graph_users.yaml", SOURCE)
    with ApiServer().running() as api:
        def respond(request):
            token = int(request.params.get("$skiptoken", "0"))
            body = {"@odata.context": api.url("/v1.0/$metadata#users"), "value": USERS[token:token + 2]}
            if token + 2 < len(USERS):
                body["@odata.nextLink"] = api.url(f"/v1.0/users?$top=2&$skiptoken={token + 2}")
            return Reply(body=body)

        api.responder = respond
        monkeypatch.setenv("GRAPH_API", api.url(""))
        assert run_cli(project, "validate").exit_code == 0
        assert run_cli(project, "generate").exit_code == 0
        result = run_cli(project, "run", "graph_users", "--live", "--json")
        assert result.exit_code == 0, result.output
        assert [(r.path, r.params) for r in api.seen] == [
            ("/v1.0/users", {"$top": "2", "$select": "id,displayName,manager"}),
            ("/v1.0/users", {"$top": "2", "$skiptoken": "2"}),
            ("/v1.0/users", {"$top": "2", "$skiptoken": "4"}),
        ]
    summary = summaries(result.output)["graph_users"]
    assert {k: summary[k] for k in ("status", "files_landed", "rows_in", "rows_loaded", "rows_quarantined")} == {
        "status": "succeeded", "files_landed": 3, "rows_in": 5, "rows_loaded": 5, "rows_quarantined": 0}
    query = run_cli(project, "query", "SELECT id, display_name, etag, manager_ref, manager_id FROM directory.users "
                    "ORDER BY id", "--format", "json")
    assert query.exit_code == 0, query.output
    assert json.loads(query.output) == [
        {"id": "u1", "display_name": "Ada", "etag": 'W/"1"', "manager_ref": "https://graph.example/users/m1",
         "manager_id": "m1"},
        {"id": "u2", "display_name": "Alan", "etag": 'W/"2"', "manager_ref": None, "manager_id": None},
        {"id": "u3", "display_name": "Grace", "etag": 'W/"3"', "manager_ref": "https://graph.example/users/m2",
         "manager_id": "m2"},
        {"id": "u4", "display_name": "Edsger", "etag": 'W/"4"', "manager_ref": None, "manager_id": None},
        {"id": "u5", "display_name": "Barbara", "etag": 'W/"5"', "manager_ref": "https://graph.example/users/m1",
         "manager_id": "m1"},
    ]
