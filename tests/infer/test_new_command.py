"""`onboard new`: what it refuses, the source kinds it writes, encodings, ambiguity notes, names and --sample-rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.infer.columns import column_name, max_length_for
from framework.infer.definition import scalar
from tests.infer.test_new_from_sample import onboard


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "sources").mkdir()
    (tmp_path / "people.csv").write_text("id,name,born\n1,Ann,03/04/1990\n2,Bob,05/06/1991\n3,Cy,\n")
    return tmp_path


def test_an_existing_definition_is_kept_unless_forced(root):
    target = root / "sources" / "people.yaml"
    target.write_text("# mine\n")
    result = onboard(root, "new", "people", "--from", str(root / "people.csv"))
    assert result.exit_code == 1
    assert "sources/people.yaml exists: give --force to overwrite it" in result.output
    assert target.read_text() == "# mine\n"
    assert onboard(root, "new", "people", "--from", str(root / "people.csv"), "--force").exit_code == 0
    assert target.read_text().startswith("# Inferred by `onboard new` from people.csv: 3 row(s) read.\n")


def test_ambiguous_day_month_order_is_named_and_a_sample_outside_the_project_is_no_example(root, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "people.csv"
    outside.write_text((root / "people.csv").read_text())
    assert onboard(root, "new", "people", "--from", str(outside)).exit_code == 0
    text = (root / "sources" / "people.yaml").read_text()
    assert "      - {name: born, type: date, format: 'd/M/yyyy'}  # read as 'd/M/yyyy' (also reads as " \
           "'M/d/yyyy': check)\n" in text
    assert "example_input" not in text


def test_sample_rows_limits_what_is_read(root):
    assert onboard(root, "new", "people", "--from", str(root / "people.csv"), "--sample-rows", "2").exit_code == 0
    text = (root / "sources" / "people.yaml").read_text()
    assert text.startswith("# Inferred by `onboard new` from people.csv: 2 row(s) read.\n")
    assert "      - {name: born, type: date, nullable: false, format: 'd/M/yyyy'}" in text


def test_a_latin1_file_declares_its_encoding(root):
    (root / "cities.csv").write_bytes("city;zip\nMünchen;80331\nKöln;50667\n".encode("latin-1"))
    assert onboard(root, "new", "cities", "--from", str(root / "cities.csv")).exit_code == 0
    text = (root / "sources" / "cities.yaml").read_text()
    assert "    type: csv\n    delimiter: ';'\n    encoding: ISO-8859-1\n    columns:\n" \
           "      - {name: city, type: string(16), nullable: false}\n" \
           "      - {name: zip, type: integer, nullable: false}\n" in text
    assert "# encoding ISO-8859-1: the sample is not UTF-8.\n" in text


@pytest.mark.parametrize(("kind", "config"), [
    ("email", "  config:\n    recipients: [people@data.example.com]  # the address SES receives: change it\n"
              "    attachment_pattern: '*.csv'\n"
              "    allowed_senders: []  # empty: any sender; list the senders' address globs\n"),
    ("stream", "  config:\n    kind: kinesis\n    stream_name: people  # the stream's name: check it\n"),
    ("http_push", "  config:\n    path: /ingest/people\n    auth: api_key\n"),
])
def test_each_source_kind_gets_a_config_that_validates(root, kind, config):
    sample = "people.csv" if kind == "email" else "people.json"
    (root / "people.json").write_text('{"people": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}]}')
    result = onboard(root, "new", "people", "--from", str(root / sample), "--type", kind)
    assert result.exit_code == 0, result.output
    assert config in (root / "sources" / "people.yaml").read_text()
    assert onboard(root, "validate").exit_code == 0
    if kind != "email":
        assert "  schema:\n    type: jsonl\n    columns:\n" in (root / "sources" / "people.yaml").read_text()


def test_a_stream_needs_json_records(root):
    result = onboard(root, "new", "people", "--from", str(root / "people.csv"), "--type", "stream")
    assert result.exit_code == 1
    assert "a stream source lands its records as JSON lines: give a JSON or JSON lines sample, not csv" in result.output
    assert not (root / "sources" / "people.yaml").exists()


def test_refusals(root):
    bad_name = onboard(root, "new", "People-List", "--from", str(root / "people.csv"))
    assert bad_name.exit_code == 2 and "NAME must be lower-case snake_case (e.g. people_list)" in bad_name.output
    missing = onboard(root, "new", "people", "--from", str(root / "nope.csv"))
    assert missing.exit_code == 2 and "--from: no file" in missing.output
    header = onboard(root, "new", "people", "--from", str(root / "people.csv"), "--header", "X-A: 1")
    assert header.exit_code == 2 and "--header applies to a URL" in header.output
    url_type = onboard(root, "new", "people", "--from", "http://127.0.0.1:9/x", "--type", "email")
    assert url_type.exit_code == 2 and "a URL makes a rest_api source: --type does not apply" in url_type.output
    (root / "broken.json").write_text('{"a": [1, 2')
    broken = onboard(root, "new", "broken", "--from", str(root / "broken.json"))
    assert broken.exit_code == 1 and "the sample is not JSON" in broken.output
    assert not (root / "sources" / "broken.yaml").exists()
    (root / "empty.csv").write_text("")
    empty = onboard(root, "new", "empty", "--from", str(root / "empty.csv"))
    assert empty.exit_code == 1 and "empty.csv: no records in the sample, nothing to infer the columns from" in \
        empty.output


def test_column_names():
    taken: set[str] = set()
    names = [column_name(s, taken) for s in ("customerId", "HTTPStatus", "Order Date", "2nd try", "order date",
                                             "_record", "user", '"@odata.etag"', "")]
    assert names == ["customer_id", "http_status", "order_date", "c_2nd_try", "order_date_2", "record", "user",
                     "odata_etag", "column"]


def test_max_length_headroom_and_yaml_scalars():
    assert [max_length_for([v]) for v in ("a" * 10, "a" * 11, "é" * 40, "a" * 50000)] == [16, 32, 128, 65535]
    assert [scalar(v) for v in ("plain", "yes", "a: b", "it's", "*.csv", "12")] == \
        ["plain", "'yes'", "'a: b'", "'it''s'", "'*.csv'", "'12'"]


def test_the_day_month_order_duckdbs_sniffer_chose_for_the_file_wins(root):
    (root / "us.csv").write_text("id,due,born\n1,12/31/2024,03/04/1990\n2,11/30/2024,05/06/1991\n")
    assert onboard(root, "new", "us", "--from", str(root / "us.csv")).exit_code == 0
    text = (root / "sources" / "us.yaml").read_text()
    assert "      - {name: due, type: date, nullable: false, format: 'M/d/yyyy'}  # read as 'M/d/yyyy'\n" in text
    assert "      - {name: born, type: date, nullable: false, format: 'M/d/yyyy'}  # read as 'M/d/yyyy' (also reads " \
           "as 'd/M/yyyy': check)\n" in text
