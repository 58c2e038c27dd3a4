"""`onboard run SOURCE --reprocess`: which batches run again, under which ids, and refusals; deployed, one new
execution of the state machine per batch (moto Step Functions), whose ledger task records `reprocess_of`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from framework.cli import main
from framework.project import Project
from framework.reprocess import ReprocessRefused, reprocess_input, select
from framework.runtime.batch import new_batch_id
from framework.runtime.ledger import DynamoRunLedger, RunRecord, SqliteRunLedger
from framework.runtime.pipeline_runs import PipelineRuns
from framework.spec import load_project
from tests.conftest import REPO
from tests.runtime.conftest import create_run_ledger_table

NOW = datetime(2024, 12, 1, 9, 0, 0, tzinfo=UTC)
OLD = "20241115T100000Z-0a0a0a0a"
MID = "20241116T100000Z-1a2b3c4d"
NEW = "20241117T100000Z-2b2b2b2b"
FAILED = "20241118T100000Z-3c3c3c3c"
OBJECT = {"bucket": "raw", "key": "customers/ingest_date=2024-11-16/x.json", "uri": "s3://raw/x.json",
          "origin": "landing/incoming/customers/x.json", "etag": "e1", "size": 10}


def records(source: str) -> list[RunRecord]:
    rows = {"rows_in": 2, "rows_loaded": 2, "rows_quarantined": 0, "rows_duplicate": 0}
    return [RunRecord(source, OLD, "succeeded", "done", "2024-11-15T10:00:00Z", [OBJECT], rows=rows),
            RunRecord(source, MID, "succeeded", "done", "2024-11-16T10:00:00Z", [OBJECT], rows=rows),
            RunRecord(source, NEW, "succeeded", "done", "2024-11-17T10:00:00Z", [OBJECT], rows=rows,
                      reprocess_of=MID),
            RunRecord(source, FAILED, "failed", "transform", "2024-11-18T10:00:00Z", [OBJECT])]


@pytest.fixture
def sources():
    return {s.name: s for s in load_project(Project.at(REPO))}


@pytest.fixture
def ledger(tmp_path):
    found = SqliteRunLedger(tmp_path / "ledger.sqlite")
    for record in records("customers"):
        found.put(record)
    return found


def picked(items) -> list[tuple[str, str]]:
    return [(i.original.batch_id, i.batch_id) for i in items]


def test_every_succeeded_original_runs_again_oldest_first_under_new_ids(ledger, sources):
    assert picked(select(ledger, sources["customers"], clock=lambda: NOW)) == [
        (OLD, new_batch_id(NOW, "reprocess", OLD)), (MID, new_batch_id(NOW, "reprocess", MID))]
    assert new_batch_id(NOW, "reprocess", OLD).startswith("20241201T090000Z-")


def test_since_and_batch_narrow_the_choice(ledger, sources):
    assert [o for o, _ in picked(select(ledger, sources["customers"], since=date(2024, 11, 16)))] == [MID]
    assert [o for o, _ in picked(select(ledger, sources["customers"], batch=MID))] == [MID]
    assert [o for o, _ in picked(select(ledger, sources["customers"], batch=NEW))] == [MID]  # a reprocess: its original


def test_one_batch_that_later_batches_followed_needs_yes(ledger, sources):
    with pytest.raises(ReprocessRefused) as refused:
        select(ledger, sources["customers"], batch=OLD)
    assert str(refused.value) == (f"1 batch(es) of customers came after {OLD}, so its rows replace those of the later "
                                  "batches with the same key; reprocess them all in order with --since 2024-11-15, "
                                  "or pass --yes")
    assert [o for o, _ in picked(select(ledger, sources["customers"], batch=OLD, yes=True))] == [OLD]


def test_refusals_say_why(ledger, sources):
    with pytest.raises(ReprocessRefused, match=f"^batch {FAILED} of customers is failed; only a succeeded batch is "
                       rf"reprocessed \(a failed one is continued with `--resume {FAILED}`\)$"):
        select(ledger, sources["customers"], batch=FAILED)
    with pytest.raises(ReprocessRefused, match="^no batch 20200101T000000Z-00000000 of customers in the run ledger$"):
        select(ledger, sources["customers"], batch="20200101T000000Z-00000000")
    with pytest.raises(ReprocessRefused, match="^customers has no succeeded batch ingested on or after 2025-01-01 to "
                       "reprocess$"):
        select(ledger, sources["customers"], since=date(2025, 1, 1))


def test_an_append_source_says_what_would_be_duplicated_and_needs_yes(tmp_path, sources):
    appending = sources["customers"].definition.model_copy(deep=True)
    appending.redshift.load.mode = "append"
    source = sources["customers"].__class__(sources["customers"].file, appending, sources["customers"].columns)
    ledger = SqliteRunLedger(tmp_path / "ledger.sqlite")
    for record in records("customers"):
        ledger.put(record)
    with pytest.raises(ReprocessRefused) as refused:
        select(ledger, source)
    assert str(refused.value) == ("customers appends: reprocessing 2 batch(es) adds their 4 row(s) to sales.customers "
                                  "again, next to the rows already loaded (delete those first to replace them); pass "
                                  "--yes to go ahead")
    assert len(select(ledger, source, yes=True)) == 2


def test_the_cli_refuses_reprocess_options_without_reprocess():
    result = CliRunner().invoke(main, ["--project", str(REPO), "run", "customers", "--since", "2024-11-16"])
    assert result.exit_code == 2 and "--since, --batch and --yes apply to --reprocess" in result.output
    result = CliRunner().invoke(main, ["--project", str(REPO), "run", "--all", "--reprocess"])
    assert result.exit_code == 2


FIRST_INPUT = {"source": "customers", "batch_id": MID, "ingest_time": "2024-11-16T10:00:00Z", "files": 1,
               "objects": [f"s3://raw/customers/ingest_date=2024-11-16/{MID}.json"],
               "landed_objects": [OBJECT], "folder": None,
               "glue_arguments": {"--batch_id": MID, "--input": f"s3://raw/customers/ingest_date=2024-11-16/{MID}.json",
                                  "--output": "s3://processed/customers/",
                                  "--quarantine": f"s3://quarantine/customers/{MID}/",
                                  "--manifest": f"s3://processed/_manifests/customers/{MID}.manifest",
                                  "--summary": f"s3://processed/_manifests/customers/{MID}.summary.json",
                                  "--ingest_time": "2024-11-16T10:00:00Z"},
               "manifest_uri": f"s3://processed/_manifests/customers/{MID}.manifest",
               "summary_uri": f"s3://processed/_manifests/customers/{MID}.summary.json"}


def test_a_reprocess_input_names_new_outputs_and_keeps_the_raw_objects():
    new = "20241201T090000Z-99999999"
    got = reprocess_input({**FIRST_INPUT, "resume_from": "load"}, MID, new)
    assert got == {**FIRST_INPUT, "batch_id": new, "reprocess_of": MID,
                   "glue_arguments": {**FIRST_INPUT["glue_arguments"], "--batch_id": new,
                                      "--quarantine": f"s3://quarantine/customers/{new}/",
                                      "--manifest": f"s3://processed/_manifests/customers/{new}.manifest",
                                      "--summary": f"s3://processed/_manifests/customers/{new}.summary.json"},
                   "manifest_uri": f"s3://processed/_manifests/customers/{new}.manifest",
                   "summary_uri": f"s3://processed/_manifests/customers/{new}.summary.json"}


def test_deployed_reprocess_starts_one_execution_per_batch_and_the_ledger_records_it(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("ONBOARD_LEDGER_TABLE", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_run_ledger_table(dynamodb, "onboard-runs")
        ledger = DynamoRunLedger("onboard-runs", dynamodb)
        for record in records("customers")[1:]:
            ledger.put(record)
        assert ledger.claim_object("customers", OBJECT["origin"], OBJECT["etag"], MID) is None
        stepfunctions = boto3.client("stepfunctions")
        machine = stepfunctions.create_state_machine(
            name="onboard-customers", roleArn="arn:aws:iam::123456789012:role/onboard-states",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
        stepfunctions.start_execution(stateMachineArn=machine, name=MID, input=json.dumps(FIRST_INPUT))

        result = CliRunner().invoke(main, ["--project", str(REPO), "run", "customers", "--reprocess", "--deployed",
                                           "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        [answer] = [json.loads(line) for line in result.output.splitlines()]
        assert answer["reprocess_of"] == MID and answer["execution"].endswith(f":{answer['batch_id']}")
        started = json.loads(stepfunctions.describe_execution(executionArn=answer["execution"])["input"])
        assert started == reprocess_input(FIRST_INPUT, MID, answer["batch_id"])

        # the state machine's first state: the ledger task records the reprocess without claiming the objects
        PipelineRuns(ledger, s3=None, clock=lambda: NOW).start(started)
        record = ledger.get("customers", answer["batch_id"])
        assert (record.status, record.stage, record.reprocess_of) == ("running", "transform", MID)
        assert ledger.claim_object("customers", OBJECT["origin"], OBJECT["etag"], "someone-else") == MID
        text = CliRunner().invoke(main, ["--project", str(REPO), "status", "customers", "--deployed"]).output
        assert f"{answer['batch_id']}  customers  running at transform  0 in, 0 loaded, 0 quarantined, 0 duplicate  " \
               f"(reprocess of {MID})" in text.splitlines()


def test_local_reprocess_of_raw_objects_that_are_gone_processes_nothing(tmp_path, monkeypatch):
    from tests.conftest import customers_example

    monkeypatch.setenv("ONBOARD_HOME", str(tmp_path / "state"))
    project = customers_example(tmp_path)
    assert CliRunner().invoke(main, ["--project", str(project.root), "generate"]).exit_code == 0
    ledger = SqliteRunLedger(project.ledger_path)
    ledger.put(records("customers")[1])
    result = CliRunner().invoke(main, ["--project", str(project.root), "run", "customers", "--reprocess"])
    assert (result.exit_code, result.output) == (1, f"customers: the raw objects of batch {MID} are gone "
                                                    f"({OBJECT['key']}); nothing was reprocessed\n")
    assert [r.batch_id for r in ledger.recent("customers")] == [MID]
