"""`onboard generate` writes the pipeline API's OpenAPI document to generated/_platform/openapi.json (the same
document the API serves), and `--check` catches a stale one."""

from __future__ import annotations

import json

from click.testing import CliRunner

from framework.cli import main
from framework.runtime.pipeline_api import openapi_document, route
from tests.conftest import REPO, customers_example


def test_generate_writes_the_served_document_and_check_names_drift(tmp_path):
    customers_example(tmp_path)
    assert CliRunner().invoke(main, ["--project", str(tmp_path), "generate"]).exit_code == 0
    path = tmp_path / "generated/_platform/openapi.json"
    assert json.loads(path.read_text()) == openapi_document()
    assert path.read_text() == (REPO / "generated/_platform/openapi.json").read_text()  # deterministic
    path.write_text("{}\n")
    result = CliRunner().invoke(main, ["--project", str(tmp_path), "generate", "--check"])
    assert result.exit_code == 1
    assert "generated/_platform/openapi.json" in result.output


def test_every_route_and_status_the_router_answers_is_documented():
    document = openapi_document()
    assert document["openapi"] == "3.0.3"
    operations = {(path, method): set(op["responses"]) for path, item in document["paths"].items()
                  for method, op in item.items()}
    assert operations == {("/pipelines", "post"): {"202", "400", "404", "409", "422"},
                          ("/pipelines", "get"): {"200", "404", "422"},
                          ("/pipelines/{pipeline_id}", "get"): {"200", "404"},
                          ("/openapi.json", "get"): {"200"}}
    assert route("GET", "/openapi.json", {}, None, backend=None) == (200, document)  # type: ignore[arg-type]
