"""IAM from the manifest: each source's roles reach only its own prefixes, secrets and Glue job."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.cdk import cfn
from tests.conftest import REPO

pytestmark = pytest.mark.slow
SOURCES = tuple(sorted(p.parent.name for p in (REPO / "generated").glob("*/manifest.json")))
BATCH = "20241116T100000Z-1a2b3c4d"


def manifest(source: str) -> dict:
    return json.loads((REPO / "generated" / source / "manifest.json").read_text())


def object_arn(spot: dict, key: str) -> str:
    zone = spot["bucket"].removeprefix("${BUCKET:").removesuffix("}")
    return f"{cfn.bucket_arn(zone)}/{spot['prefix']}{key}"


@pytest.fixture(scope="module")
def access(assembly):
    return {source: cfn.Access.of(cfn.load(assembly, f"Source-{source}")) for source in SOURCES}


@pytest.mark.parametrize("source, other", list(itertools.permutations(SOURCES, 2)))
def test_no_role_of_a_source_reaches_another_sources_prefixes(access, source, other):
    theirs = manifest(other)["lake"]
    for role in access[source].roles():
        for area, spot in theirs.items():
            arn = object_arn(spot, f"x/{BATCH}.parquet")
            for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                assert not access[source].allows(role, action, arn), (role, action, arn)
            zone = spot["bucket"].removeprefix("${BUCKET:").removesuffix("}")
            assert not access[source].allows(role, "s3:ListBucket", cfn.bucket_arn(zone), s3_prefix=spot["prefix"]), \
                (role, area)


@pytest.mark.parametrize("source", SOURCES)
def test_each_role_reaches_what_its_manifest_scope_says(access, source):
    m = manifest(source)
    roles = {name: next(r for r in access[source].roles() if r.startswith(prefix)) for name, prefix in
             {"connector": "ConnectorRole", "glue": "GlueJobRole", "redshift": "CopyRole", "loader": "LoaderRole",
              "crawler": "GlueCrawlerRole"}.items()}
    grants = access[source]
    for spot in m["iam"]["connector"]["read"]:
        assert grants.allows(roles["connector"], "s3:GetObject", object_arn(spot, "a.csv"))
    assert grants.allows(roles["connector"], "s3:PutObject", object_arn(m["lake"]["raw"], f"ingest_date=2024-11-16/{BATCH}.csv"))
    assert not grants.allows(roles["connector"], "s3:PutObject", object_arn(m["lake"]["processed"], "a.parquet"))
    for spot in m["iam"]["glue"]["write"]:
        assert grants.allows(roles["glue"], "s3:PutObject", object_arn(spot, "part-0.parquet"))
    assert not grants.allows(roles["glue"], "s3:PutObject", object_arn(m["lake"]["raw"], "a.csv"))
    for spot in m["iam"]["redshift"]["read"]:
        assert grants.allows(roles["redshift"], "s3:GetObject", object_arn(spot, "part-0.parquet"))
    assert not grants.allows(roles["redshift"], "s3:GetObject", object_arn(m["lake"]["raw"], "a.csv"))
    assert grants.allows(roles["loader"], "s3:GetObject", object_arn(m["lake"]["manifests"], f"{BATCH}.summary.json"))
    assert not grants.allows(roles["loader"], "s3:GetObject", object_arn(m["lake"]["processed"], "part-0.parquet"))
    assert grants.allows(roles["crawler"], "s3:GetObject", object_arn(m["lake"]["processed"], "year=2024/p.parquet"))
    for role in roles.values():
        assert not grants.allows(role, "s3:PutObject", f"{cfn.bucket_arn('curated')}/{source}/x")


def test_no_s3_statement_grants_a_whole_bucket_or_everything(access):
    for source, grants in access.items():
        for role, resource, actions in grants.s3_resources():
            assert resource != "*", (source, role)
            if resource.endswith("*"):
                bucket, _, key_prefix = resource.partition("/")
                assert key_prefix.endswith("/*") and len(key_prefix) > 2, (source, role, resource)
            else:
                assert "/" in resource or actions == ("s3:ListBucket",), (source, role, resource)


@pytest.mark.parametrize("source", SOURCES)
def test_the_state_machine_may_run_only_its_own_glue_job_and_crawler(assembly, access, source):
    template = cfn.load(assembly, f"Source-{source}")
    role = next(r for r in access[source].roles() if r.startswith("PipelineStateMachineRole"))
    job = f"arn:aws:glue:{cfn.REGION}:{cfn.ACCOUNT}:job/"
    [job_id] = cfn.resources(template, "AWS::Glue::Job")
    own = [s for s in access[source].statements[role] if "glue:StartJobRun" in s["Action"]]
    assert [s["Resource"] for s in own] == [f"{job}<{job_id}>"]
    [crawler_id] = cfn.resources(template, "AWS::Glue::Crawler")
    crawl = [s for s in access[source].statements[role] if s["Action"] == "glue:startCrawler"]
    assert [s["Resource"] for s in crawl] == [f"arn:aws:glue:{cfn.REGION}:{cfn.ACCOUNT}:crawler/<{crawler_id}>"]


def test_copy_role_is_named_for_the_platform_and_trusts_only_the_attached_role(assembly):
    template = cfn.load(assembly, "Source-sales_transactions")
    roles = cfn.resources(template, "AWS::IAM::Role")
    copy = next(r for k, r in roles.items() if k.startswith("CopyRole"))
    assert copy["RoleName"] == "onboard-copy-sales_transactions"
    [statement] = copy["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["AWS"].startswith("<import:onboard-platform:") and "CopyChainRole" in statement["Principal"]["AWS"]


def test_the_rest_connector_may_delete_its_partial_pages_and_keep_only_its_own_state(assembly, access):
    grants = access["product_reviews"]
    [role] = [r for r in grants.roles() if r.startswith("ConnectorRole")]
    m = manifest("product_reviews")
    assert grants.allows(role, "s3:DeleteObject", object_arn(m["lake"]["raw"], f"ingest_date=2024-11-16/{BATCH}/part-000001.json"))
    assert not grants.allows(role, "s3:DeleteObject", object_arn(m["lake"]["processed"], "part-0.parquet"))
    [ledger] = [s for s in grants.statements[role] if s["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]]
    assert ledger["Condition"] == {"ForAll" + "Values:StringEquals": {"dynamodb:LeadingKeys": ["product_reviews"]}}
    [secret] = [s for s in grants.statements[role] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert secret["Resource"] == f"arn:aws:secretsmanager:{cfn.REGION}:{cfn.ACCOUNT}:secret:reviews_api_key-??????"
    for other in ("customers", "products", "sales_transactions"):
        [file_role] = [r for r in access[other].roles() if r.startswith("ConnectorRole")]
        assert not any(s["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
                       for s in access[other].statements[file_role])
        assert not access[other].allows(file_role, "s3:DeleteObject", object_arn(manifest(other)["lake"]["raw"], "x"))


def test_the_rest_connector_gets_the_ledger_table_and_fifteen_minutes(assembly):
    template = cfn.load(assembly, "Source-product_reviews")
    [connector] = [f for f in cfn.resources(template, "AWS::Lambda::Function").values()
                   if f["FunctionName"] == "onboard-product_reviews-land"]
    assert connector["Timeout"] == 900
    assert connector["Environment"]["Variables"]["ONBOARD_LEDGER_TABLE"].startswith("<import:onboard-platform:")


def test_only_the_sources_an_exported_dataset_reads_may_unload_it_to_its_curated_folder(assembly, access):
    datasets = json.loads((REPO / "generated/_datasets/datasets.json").read_text())["datasets"]
    [revenue] = [d for d in datasets if d["name"] == "revenue_by_tier" and d["unload"]]
    readers = {name for name in SOURCES
               if f"{manifest(name)['redshift']['schema']}.{manifest(name)['redshift']['table']}" in revenue["reads"]}
    assert readers == {"customers", "products", "sales_transactions"}
    folder = {"bucket": "${BUCKET:curated}", "prefix": "curated/revenue_by_tier/"}
    for source in SOURCES:
        grants = access[source]
        [copy] = [r for r in grants.roles() if r.startswith("CopyRole")]
        [loader] = [f for f in cfn.resources(cfn.load(assembly, f"Source-{source}"), "AWS::Lambda::Function").values()
                    if f["FunctionName"] == f"onboard-{source}-load"]
        environment = loader["Environment"]["Variables"]
        exported = source in readers
        assert grants.allows(copy, "s3:PutObject", object_arn(folder, "0000_part_00.parquet")) is exported
        assert grants.allows(copy, "s3:DeleteObject", object_arn(folder, "0000_part_00.parquet")) is exported
        assert grants.allows(copy, "s3:ListBucket", cfn.bucket_arn("curated"), s3_prefix=folder["prefix"]) is exported
        assert not grants.allows(copy, "s3:PutObject", object_arn({**folder, "prefix": "curated/other/"}, "x"))
        assert (environment.get("ONBOARD_CURATED_URI", "").endswith("/curated/")) is exported
