"""deploy.yaml validation, the trigger registry and the S3 key filter (no synthesis needed)."""

from __future__ import annotations

import pytest

from onboard_cdk.settings import DeploySettings, ExistingCluster, ServerlessWarehouse, SettingsError, load_settings
from onboard_cdk.triggers import TRIGGERS, TriggerContext, add_trigger
from onboard_cdk.triggers.s3_objects import key_pattern


def test_no_deploy_yaml_means_the_defaults(tmp_path):
    settings = load_settings(tmp_path)
    assert settings == DeploySettings()
    assert (settings.prefix, settings.warehouse) == ("onboard", ServerlessWarehouse())


def test_an_existing_cluster_is_selected_by_kind(tmp_path):
    (tmp_path / "deploy.yaml").write_text(
        "warehouse: {kind: cluster, cluster_identifier: dw, database: dev, db_user: loader, "
        "attached_role_arn: 'arn:aws:iam::123456789012:role/dw-s3'}\n")
    assert load_settings(tmp_path).warehouse == ExistingCluster(
        kind="cluster", cluster_identifier="dw", database="dev", db_user="loader",
        attached_role_arn="arn:aws:iam::123456789012:role/dw-s3")


def test_every_problem_in_deploy_yaml_is_reported_at_once(tmp_path):
    (tmp_path / "deploy.yaml").write_text("prefix: Way-Too-Long-Prefix\nretention: {log_days: 31}\nwarehose: {}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path)
    lines = str(caught.value).splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["prefix", "retention.log_days", "warehose"]
    assert lines[2] == "deploy.yaml: warehose: Extra inputs are not permitted"


def test_the_registry_has_a_trigger_for_every_kind_the_renderer_writes():
    assert sorted(TRIGGERS) == ["http", "s3", "schedule", "ses", "stream"]


def test_an_unknown_trigger_kind_names_the_known_ones():
    context = TriggerContext(stack=None, source="inbox", prefix="onboard", trigger={"kind": "pigeon"},  # type: ignore[arg-type]
                             function=None, dead_letter_queue=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no trigger for kind 'pigeon' \\(source inbox\\); known: http, s3, schedule, ses, stream"):
        add_trigger(context)


@pytest.mark.parametrize("prefix, suffix, expected", [
    ("incoming/sales/", None, {"prefix": "incoming/sales/"}),
    ("incoming/sales/", ".csv", {"wildcard": "incoming/sales/*.csv"}),
    ("in*coming\\/", ".c*v", {"wildcard": "in\\*coming\\\\/*.c\\*v"}),
])
def test_s3_key_filter(prefix, suffix, expected):
    assert key_pattern(prefix, suffix) == expected


def test_the_longest_allowed_prefix_and_source_name_fit_aws_name_limits():
    from onboard_cdk.naming import copy_role_name, function_name, resource_name, source_stack_name

    prefix, source = "p" * 10, "s" * 48  # deploy.yaml and source-name maxima
    assert len(copy_role_name(prefix, source)) == 64  # IAM role names: 64
    assert max(len(function_name(prefix, source, role)) for role in ("land", "load", "late")) == 64  # Lambda: 64
    assert len(resource_name(prefix, source)) <= 80  # state machines: 80; Glue jobs and crawlers: 255
    assert len(source_stack_name(prefix, source)) <= 128  # CloudFormation stacks: 128
    with pytest.raises(ValueError, match="unknown function role 'connector'; valid: land, load"):
        function_name(prefix, source, "connector")


def test_warehouse_azs_must_be_three_distinct_zone_names(tmp_path):
    from onboard_cdk.settings import DEFAULT_AVAILABILITY_ZONES

    assert ServerlessWarehouse().availability_zones == DEFAULT_AVAILABILITY_ZONES == (
        "us-east-1a", "us-east-1b", "us-east-1c")
    (tmp_path / "deploy.yaml").write_text("warehouse: {availability_zones: [eu-west-1a, eu-west-1a, eu-west-1b]}\n"
                                          "reserved_concurrency: {customers: 0}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path)
    assert str(caught.value).splitlines() == [
        "deploy.yaml: reserved_concurrency.customers: Input should be greater than or equal to 1",
        "deploy.yaml: warehouse.serverless.availability_zones: Value error, availability zones must be distinct: "
        "eu-west-1a, eu-west-1a, eu-west-1b"]
    (tmp_path / "deploy.yaml").write_text("warehouse: {availability_zones: [eu-west-1a, eu-west-1b]}\n")
    with pytest.raises(SettingsError, match="needs subnets in at least 3 availability zones; 2 given"):
        load_settings(tmp_path)


def test_the_xlsx_wheels_ship_with_onboard_under_pip_readable_names():
    from onboard_cdk.wheels import WHEELHOUSE, wheel_keys, wheel_names

    assert wheel_keys(["openpyxl==3.1.5"]) == ["glue-wheels/openpyxl-3.1.5-py2.py3-none-any.whl",
                                                "glue-wheels/et_xmlfile-2.0.0-py3-none-any.whl"]
    assert all((WHEELHOUSE / name).is_file() for name in wheel_names(["openpyxl==3.1.5"]))
    with pytest.raises(ValueError, match="no wheel shipped for 'pandas==2.2.3'; shipped: openpyxl==3.1.5"):
        wheel_names(["pandas==2.2.3"])


def test_the_athena_scan_limit_is_at_least_athenas_minimum(tmp_path):
    from onboard_cdk.settings import Analytics

    assert DeploySettings().analytics == Analytics(scan_limit_mb=10240, results_days=30)
    assert Analytics(scan_limit_mb=10).bytes_scanned_cutoff == 10_485_760  # Athena's minimum cutoff
    (tmp_path / "deploy.yaml").write_text("analytics: {scan_limit_mb: 9, results_days: 0, bytes: 1}\n")
    with pytest.raises(SettingsError) as error:
        load_settings(tmp_path)
    assert str(error.value) == (
        "deploy.yaml: analytics.scan_limit_mb: Input should be greater than or equal to 10\n"
        "deploy.yaml: analytics.results_days: Input should be greater than or equal to 1\n"
        "deploy.yaml: analytics.bytes: Extra inputs are not permitted")


def test_two_things_named_alike_in_the_lake_catalog_are_refused():
    from onboard_cdk.lake_catalog import catalog_conflicts

    assert catalog_conflicts(["orders", "customers"], ["revenue_by_tier"]) == []
    assert catalog_conflicts(["orders", "orders_batches"], ["customers", "orders_batches"]) == [
        "Glue table orders_batches would be both the batches table of source orders and the view of source "
        "orders_batches and the export of dataset orders_batches: rename one"]
