"""`onboard synth` exits 0 with cdk-nag on and cfn-lint clean; without the acknowledgements it fails."""

from __future__ import annotations

import json
import re

import pytest

from onboard_cdk.synth import lint_templates, nag_findings
from tests.cdk import cfn

pytestmark = pytest.mark.slow


def test_onboard_synth_of_every_example_source_is_nag_clean(example_synth):
    outdir, output = example_synth
    assert re.fullmatch(r"  \(build [0-9.]+ s, synth with cdk-nag [0-9.]+ s, cfn-lint [0-9.]+ s\)",
                        output.splitlines()[1])
    assert output.splitlines()[2:] == [
        "  Platform  (onboard-platform)",
        "  Source-customers  (onboard-source-customers)",
        "  Source-product_reviews  (onboard-source-product-reviews)",
        "  Source-products  (onboard-source-products)",
        "  Source-sales_transactions  (onboard-source-sales-transactions)",
        "  Source-sensor_readings_push  (onboard-source-sensor-readings-push)",
        "  Source-sensor_readings_stream  (onboard-source-sensor-readings-stream)",
        "  Source-supplier_invoices  (onboard-source-supplier-invoices)",
    ]
    assert "cdk-nag AwsSolutions and cfn-lint clean" in output.splitlines()[0]
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [(p["pluginName"], p["conclusion"], p["violations"]) for p in report["pluginReports"]] == [
        ("AwsSolutions", "success", []), ("CloudFormation Validate", "success", [])]
    assert nag_findings(outdir) == []


def test_every_template_is_cfn_lint_clean(assembly):
    templates = sorted(assembly.glob("*.template.json"))
    assert [t.name for t in templates] == ["Platform.template.json", "Source-customers.template.json",
                                           "Source-product_reviews.template.json", "Source-products.template.json",
                                           "Source-sales_transactions.template.json",
                                           "Source-sensor_readings_push.template.json",
                                           "Source-sensor_readings_stream.template.json",
                                           "Source-supplier_invoices.template.json"]
    assert lint_templates(templates) == []


def test_acknowledgements_name_one_finding_or_rule_with_a_reason(assembly):
    """Every acknowledgement is recorded on one resource, with its reason, in the assembly's metadata."""
    acknowledged = []
    for metadata in assembly.glob("*.metadata.json"):
        for path, entries in json.loads(metadata.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged += [(path, rule, reason) for rule, reason in entry["data"].items()
                                     if rule.startswith("AwsSolutions::")]
    assert acknowledged, "no acknowledgement metadata found"
    for path, rule, reason in acknowledged:
        assert len(reason) > 40, (path, rule)
        assert path.count("/") >= 2, f"{rule} acknowledged on a whole stack: {path}"
    rules = sorted({rule.split("[")[0].removeprefix("AwsSolutions::AwsSolutions-") for _, rule, _ in acknowledged})
    # APIG2/3/4 and COG4 are the http_push endpoint's (request validation, WAF, API key auth); IAM4 the API
    # Gateway account role's and CDK's custom resource function's; L1 the pinned runtime; SMG4 the loader secret
    assert rules == ["APIG2", "APIG3", "APIG4", "COG4", "GL1", "GL3", "IAM4", "IAM5", "L1", "SMG4", "SQS3"]
    wildcard_findings = {rule for _, rule, _ in acknowledged if rule.startswith("AwsSolutions::AwsSolutions-IAM5[")}
    assert "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::onboard-raw-<AWS::AccountId>-" \
           "<AWS::Region>/sales_transactions/*]" in wildcard_findings
    assert not any(rule.endswith("[Resource::*]") and "s3" in rule for rule in wildcard_findings)


def test_synth_fails_and_names_the_findings_when_acknowledgements_are_missing(tmp_path, monkeypatch, one_source_project):
    import onboard_cdk.access
    import onboard_cdk.glue_resources
    import onboard_cdk.pipeline
    import onboard_cdk.source_stack
    from onboard_cdk.synth import SynthFailed, synthesize

    for module in (onboard_cdk.access, onboard_cdk.glue_resources, onboard_cdk.pipeline, onboard_cdk.source_stack):
        monkeypatch.setattr(module, "acknowledge", lambda *args, **kwargs: None)
    with pytest.raises(SynthFailed, match=r"cdk-nag: \d+ unacknowledged finding") as caught:
        synthesize(one_source_project, tmp_path / "cdk.out")
    problems = caught.value.problems
    assert "AwsSolutions-GL3 (warning) at Source-sales_transactions/Glue/Job: The Glue job does not use a " \
           "security configuration with job bookmark encryption enabled." in problems
    assert any(p.startswith("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::acme-raw-<AWS::AccountId>-"
                            "<AWS::Region>/sales_transactions/*] (error) at Source-sales_transactions/Connector")
               for p in problems)
    assert cfn.ACCOUNT not in "".join(problems)
