"""`onboard new NAME --from FILE` on a corpus of real-world sample shapes: the exact YAML written, and that it
validates (the command itself loads what it wrote). Quoted commas, embedded CRLF newlines and a BOM; a gzipped
pipe-delimited file with nulls, mixed integers and decimals and yes/no; non-ISO dates and timestamps; nested
JSON under a key; ragged JSON lines with a dotted key; Parquet; XLSX."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from framework.cli import main


def write_corpus(samples: Path) -> dict[str, Path]:
    """The sample files, by source name."""
    samples.mkdir(parents=True, exist_ok=True)
    files = {
        "contacts": samples / "contacts.csv", "readings": samples / "readings.csv.gz",
        "events": samples / "events.csv", "orders": samples / "orders.json", "clicks": samples / "clicks.jsonl",
        "items": samples / "items.parquet", "stock": samples / "stock.xlsx",
    }
    files["contacts"].write_bytes(
        "\ufeffContact ID,Full Name,Address,Signed Up\r\n"
        "1,\"Doe, Jane\",\"1 Main St\r\nApt 2\",2024-01-05\r\n"
        "2,\"O'Brien, Pat\",\"\"\"The Mews\"\", 4\",2024-02-29\r\n"
        "3,Zoë Ünal,,2024-03-01\r\n".encode())
    files["readings"].write_bytes(gzip.compress(
        b"sensor|reading|count|ok\nA-1|1|10|yes\nA-2|2.5|11|no\nA-3||12|\nA-4|-0.75|3000000000|yes\n"))
    files["events"].write_text(
        "when,local_time,logged_at,day,amount\n"
        "Jan 1 2000,01/02/2024 9:05 PM,2024-01-05T10:00:00Z,31.12.2023,12.50\n"
        "Feb 29 2024,12/31/2024 11:59 AM,2024-01-05T10:00:00+02:00,1.1.2024,-3.00\n")
    files["orders"].write_text(json.dumps({"meta": {"count": 2}, "data": {"orders": [
        {"id": 101, "customer": {"id": "C1", "address": {"city": "Oslo"}}, "items": [{"sku": "A", "qty": 2}],
         "total": 19.9, "created": "2024-01-05 10:00:00", "order": "first"},
        {"id": 102, "customer": {"id": "C2", "address": {"city": "Bergen"}}, "items": [], "total": 5,
         "created": "2024-01-06 11:30:00", "order": None}]}}))
    files["clicks"].write_text('{"user.id": "u1", "page": "/home", "ms": 120}\n'
                               '{"user.id": "u2", "page": "/cart", "ms": 80, "referrer": "ads"}\n'
                               '{"page": "/home", "ms": 95, "flags": {"beta": true}}\n')
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES (1::BIGINT, 1.5::DOUBLE, DATE '2024-01-01', "  # noqa: S608 (the test's path)
        "TIMESTAMPTZ '2024-01-01 10:00:00+00', 1.00::DECIMAL(10,2), ['a'], 'x', {'k': 1}), "
        "(2, 2.25, DATE '2024-01-02', NULL, 2.00, [], 'yy', {'k': 2})) "
        f"t(id, price, sold_on, seen_at, amount, tags, name, meta)) TO '{files['items']}' (FORMAT parquet)")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Qty", "Shipped", "Price"])
    sheet.append(["X1", 3, datetime(2024, 5, 1), 9.99])
    sheet.append(["X2", 4, datetime(2024, 5, 2, 13, 30), 10.0])
    workbook.save(files["stock"])
    return files


def onboard(root: Path, *args: str):
    return CliRunner().invoke(main, ["--project", str(root), *args], catch_exceptions=False)


EXPECTED = {
    "contacts": """\
# Inferred by `onboard new` from contacts.csv: 3 row(s) read.
# dialect sniffed by DuckDB: delimiter ',', quote '"', escape '"', a header row.
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: contacts
  type: s3_file
  example_input: samples/contacts.csv
  config:
    prefix: incoming/contacts/
  schema:
    type: csv
    columns:
      - {name: contact_id, type: integer, nullable: false, source: Contact ID}  # unique in the sample
      - {name: full_name, type: string(32), nullable: false, source: Full Name}
      - {name: address, type: string(32)}
      - {name: signed_up, type: date, nullable: false, source: Signed Up}
  redshift:
    schema: public
    table: contacts
    sortkey: signed_up  # the first date or timestamp column
    load: {mode: merge, keys: [contact_id]}  # suggested: contact_id is unique and non-null in the 3 sample rows; append if it is not the key
""",
    "readings": """\
# Inferred by `onboard new` from readings.csv.gz: 4 row(s) read.
# dialect sniffed by DuckDB: delimiter '|', quote '"', escape '"', a header row.
# gzip-compressed: the Glue job decompresses files named *.gz.
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: readings
  type: s3_file
  example_input: samples/readings.csv.gz
  config:
    prefix: incoming/readings/
  schema:
    type: csv
    delimiter: '|'
    columns:
      - {name: sensor, type: string(16), nullable: false}
      - {name: reading, type: double}  # integers and decimals mixed
      - {name: count, type: bigint, nullable: false}
      - {name: ok, type: boolean}
  redshift:
    schema: public
    table: readings
""",
    "events": """\
# Inferred by `onboard new` from events.csv: 2 row(s) read.
# dialect sniffed by DuckDB: delimiter ',', quote '"', escape '"', a header row.
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: events
  type: s3_file
  example_input: samples/events.csv
  config:
    prefix: incoming/events/
  schema:
    type: csv
    columns:
      - {name: when, type: date, nullable: false, format: 'MMM d yyyy'}  # read as 'MMM d yyyy'
      - {name: local_time, type: timestamp, nullable: false, format: 'M/d/yyyy h:mm a'}  # read as 'M/d/yyyy h:mm a'
      - {name: logged_at, type: timestamptz, nullable: false}  # ISO 8601 with a zone offset
      - {name: day, type: date, nullable: false, format: 'd.M.yyyy'}  # read as 'd.M.yyyy'
      - {name: amount, type: 'decimal(18,2)', nullable: false}  # every value has two decimals
  redshift:
    schema: public
    table: events
    sortkey: when  # the first date or timestamp column
""",
    "orders": """\
# Inferred by `onboard new` from orders.json: 2 row(s) read.
# read as records under 'data.orders': 2 record(s).
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: orders
  type: s3_file
  example_input: samples/orders.json
  config:
    prefix: incoming/orders/
  schema:
    type: json
    records_path: data.orders
    columns:
      - {name: id, type: integer, nullable: false}  # unique in the sample
      - {name: customer_id, type: string(16), nullable: false, source: customer.id}
      - {name: customer_address_city, type: string(16), nullable: false, source: customer.address.city}
      - {name: items, type: json, nullable: false}  # nested lists or objects, kept as JSON text
      - {name: total, type: double, nullable: false}  # integers and decimals mixed
      - {name: created, type: timestamp, nullable: false}
      - {name: order, type: string(16)}
  redshift:
    schema: public
    table: orders
    sortkey: created  # the first date or timestamp column
    load: {mode: merge, keys: [id]}  # suggested: id is unique and non-null in the 2 sample rows; append if it is not the key
""",
    "clicks": """\
# Inferred by `onboard new` from clicks.jsonl: 3 row(s) read.
# read as JSON lines: 3 record(s).
# 3 record(s) lack some keys: those columns are nullable.
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: clicks
  type: s3_file
  example_input: samples/clicks.jsonl
  config:
    prefix: incoming/clicks/
  schema:
    type: jsonl
    columns:
      - {name: user_id, type: string(16), source: '"user.id"'}
      - {name: page, type: string(16), nullable: false}
      - {name: ms, type: integer, nullable: false}
      - {name: referrer, type: string(16)}
      - {name: flags_beta, type: boolean, source: flags.beta}
  redshift:
    schema: public
    table: clicks
""",
    "items": """\
# Inferred by `onboard new` from items.parquet: 2 row(s) read.
# read by DuckDB: 2 row(s); column types from the Parquet schema.
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: items
  type: s3_file
  example_input: samples/items.parquet
  config:
    prefix: incoming/items/
  schema:
    type: parquet
    columns:
      - {name: id, type: bigint, nullable: false}  # unique in the sample
      - {name: price, type: double, nullable: false}
      - {name: sold_on, type: date, nullable: false}
      - {name: seen_at, type: timestamptz}
      - {name: amount, type: 'decimal(10,2)', nullable: false}
      - {name: tags, type: json, nullable: false}  # nested lists or objects, kept as JSON text
      - {name: name, type: string(16), nullable: false}
      - {name: meta_k, type: integer, nullable: false, source: meta.k}
  redshift:
    schema: public
    table: items
    sortkey: sold_on  # the first date or timestamp column
    load: {mode: merge, keys: [id]}  # suggested: id is unique and non-null in the 2 sample rows; append if it is not the key
""",
    "stock": """\
# Inferred by `onboard new` from stock.xlsx: 2 row(s) read.
# read by openpyxl: first sheet, 2 row(s).
# Types, nullable: false (no empty value in the sample) and max_length (the longest value x 1.5, rounded up)
# come from the sample only: review them before you commit this file.
source:
  name: stock
  type: s3_file
  example_input: samples/stock.xlsx
  config:
    prefix: incoming/stock/
  schema:
    type: xlsx
    columns:
      - {name: code, type: string(16), nullable: false}  # unique in the sample
      - {name: qty, type: integer, nullable: false}
      - {name: shipped, type: timestamp, nullable: false}
      - {name: price, type: double, nullable: false}  # integers and decimals mixed
  redshift:
    schema: public
    table: stock
    sortkey: shipped  # the first date or timestamp column
    load: {mode: merge, keys: [code]}  # suggested: code is unique and non-null in the 2 sample rows; append if it is not the key
""",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("project")
    (root / "sources").mkdir()
    return root, write_corpus(root / "samples")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_new_writes_the_exact_definition(corpus, name):
    root, files = corpus
    result = onboard(root, "new", name, "--from", str(files[name]), "--force")
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote sources/{name}.yaml: review it, then `onboard validate` and `onboard generate`\n"
    assert (root / "sources" / f"{name}.yaml").read_text(encoding="utf-8") == EXPECTED[name]
