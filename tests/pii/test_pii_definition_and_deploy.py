"""`pii` in a definition: what validation refuses, what the job config and manifest carry (a secret's name, never
its value) and the Glue role's read access to exactly that secret."""

from __future__ import annotations

import json

from click.testing import CliRunner

from framework.cli import main
from tests.conftest import errors_for, write_source

SOURCE = """
source:
  name: people
  type: s3_file
  config: {prefix: incoming/people/}
  schema:
    type: csv
    pii_secret: ${SECRET:crm/pii-key}
    columns:
      - {name: id, type: integer}
      - {name: email, type: string, pii: hash}
      - {name: born, type: date, pii: drop}
  redshift: {schema: crm, table: people}
"""


def test_hash_and_mask_need_a_string_and_a_dropped_column_is_no_key(project):
    errors = errors_for(project, SOURCE.replace("{name: id, type: integer}", "{name: id, type: integer, pii: mask}")
                        .replace("table: people}", "table: people, sortkey: born}"))
    assert any("pii: mask applies only to type string (pii: drop fits any type)" in e for e in errors), errors
    assert any("'born' is pii: drop, so it is not in the table; choose another column" in e for e in errors), errors
    bad_secret = errors_for(project, SOURCE.replace("${SECRET:crm/pii-key}", "plain-text-key"))
    assert any("pii_secret" in e for e in bad_secret), bad_secret


def test_the_job_config_and_manifest_name_the_secret_and_the_glue_role_may_read_it(project):
    write_source(project, "people.yaml", SOURCE)
    assert CliRunner().invoke(main, ["--project", str(project.root), "generate"]).exit_code == 0
    folder = project.generated_dir / "people"
    job = (folder / "glue/job.py").read_text()
    assert "'pii_secret': 'crm/pii-key'" in job and "'pii': 'hash'" in job and "'pii': 'drop'" in job
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["glue"]["pii_secret"] == "crm/pii-key"
    assert manifest["secrets"] == []  # the connector never reads it

    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from onboard_cdk.glue_resources import GlueResources, build_library_zip
    from onboard_cdk.manifests import SourceManifest

    stack = Stack(App(), "Test")
    GlueResources(stack, "Glue", manifest=SourceManifest(folder, manifest), prefix="onboard", job_name="onboard-people",
                  key_arn="arn:aws:kms:eu-west-1:123456789012:key/k", database="onboard", security_configuration="sc",
                  library_zip=build_library_zip(project.root / "lib.zip"))
    statements = [s for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
                  for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    secret = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert len(secret) == 1
    assert json.dumps(secret[0]["Resource"]).count("secret:crm/pii-key-??????") == 1
