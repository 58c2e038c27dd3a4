"""generated/_platform/bootstrap.sql: the one-time warehouse setup for the one loader user, from deploy.yaml
and the sources' schemas; deterministic, checked by `onboard generate --check`, never holding a password."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from framework.cli import main
from tests.conftest import REPO

BOOTSTRAP = "generated/_platform/bootstrap.sql"


def project_with(tmp_path, deploy_yaml: str | None = None):
    for folder in ("sources", "schemas"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    if deploy_yaml is not None:
        (tmp_path / "deploy.yaml").write_text(deploy_yaml)
    return tmp_path


def generate(root, *args: str):
    return CliRunner().invoke(main, ["--project", str(root), "generate", *args])


def statements(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("--")]


def test_serverless_bootstrap_creates_the_loader_user_from_its_secret_and_grants_every_schema(tmp_path):
    root = project_with(tmp_path)
    assert generate(root).exit_code == 0
    text = (root / BOOTSTRAP).read_text()
    assert text == (REPO / BOOTSTRAP).read_text()  # the checked-in one is this project's
    assert statements(text)[:4] == [
        "CREATE USER onboard_loader PASSWORD '${loader_password}';",
        "GRANT CREATE ON DATABASE analytics TO onboard_loader;",
        "CREATE ROLE onboard_reader;",
        "ALTER DEFAULT PRIVILEGES FOR USER onboard_loader GRANT SELECT ON TABLES TO ROLE onboard_reader;"]
    schemas = [line.split()[5] for line in statements(text) if line.startswith("CREATE SCHEMA")]
    assert schemas == ["onboard_meta", "iot", "procurement", "sales"]
    for schema in schemas:
        assert f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION onboard_loader;" in text
        assert f"GRANT ALL ON SCHEMA {schema} TO onboard_loader;" in text
        assert f"GRANT USAGE ON SCHEMA {schema} TO ROLE onboard_reader;" in text
    assert "secret-id onboard-warehouse-loader" in text and "after the first deploy of the platform stack" in text


def test_bootstrap_follows_deploy_yaml_and_check_catches_drift(tmp_path):
    root = project_with(tmp_path, "prefix: acme\nwarehouse: {database: dw, loader_user: etl_loader}\n")
    assert generate(root).exit_code == 0
    text = (root / BOOTSTRAP).read_text()
    assert "CREATE USER etl_loader PASSWORD '${loader_password}';" in text
    assert "GRANT CREATE ON DATABASE dw TO etl_loader;" in text and "secret-id acme-warehouse-loader" in text
    assert generate(root, "--check").exit_code == 0
    (root / "deploy.yaml").write_text("prefix: acme\nwarehouse: {database: dw, loader_user: other_loader}\n")
    result = generate(root, "--check")
    assert result.exit_code == 1 and "differs: generated/_platform/bootstrap.sql" in result.output


def test_an_existing_clusters_user_signs_in_with_iam_and_has_no_password(tmp_path):
    root = project_with(tmp_path, "warehouse: {kind: cluster, cluster_identifier: analytics, database: dev, "
                                  "db_user: onboard_loader, attached_role_arn: "
                                  "'arn:aws:iam::123456789012:role/dw-s3'}\n")
    assert generate(root).exit_code == 0
    text = (root / BOOTSTRAP).read_text()
    assert statements(text)[0] == "CREATE USER onboard_loader PASSWORD DISABLE;"
    assert "Redshift cluster analytics, database dev" in text and "loader_password" not in text


def test_a_bad_deploy_yaml_stops_generate_with_its_problems(tmp_path):
    root = project_with(tmp_path, "warehouse: {availability_zones: [us-east-1a]}\n")
    result = generate(root)
    assert result.exit_code == 1
    assert "deploy.yaml: warehouse.serverless.availability_zones: Value error, a Redshift Serverless workgroup " \
           "needs subnets in at least 3 availability zones; 1 given" in result.output
