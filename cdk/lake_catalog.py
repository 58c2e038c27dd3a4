"""A source's tables in the lake's Glue database: `<source>_batches` (every batch) and the view `<source>`.

- `<source>_batches` is created here, not by the crawler (a crawler names a table after its folder and cannot
  add a suffix): Parquet SerDe over the processed prefix, the columns of `generated/<source>/glue/crawler.json`
  (the table's, in physical order) and its partition folders as string partition keys. The source's crawler
  targets this table (a catalog target) and keeps its partitions and schema current.
- `<source>` is `generated/<source>/athena/view.sql` deployed as a Glue catalog view the way Athena stores the
  views it creates (TableType VIRTUAL_VIEW, `presto_view` parameter, ViewOriginalText
  `/* Presto View: <base64 of the JSON definition> */`, columns with their engine types), so it exists from the
  deploy on, changes with the deploy that changes the source, and needs no Athena query in the pipeline.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from framework.render.athena import DIALECT, view_query
from framework.warehouse.lake_view import batches_name, engine_type
from onboard_cdk.access import Arn, bucket_name, zone_of
from onboard_cdk.lake_buckets import BUCKETS
from onboard_cdk.manifests import SourceManifest

PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
ATHENA_CATALOG = "awsdatacatalog"
VIEW_FILE = "athena/view.sql"


def presto_view_text(query: str, database: str, columns: list[dict[str, str]]) -> str:
    """ViewOriginalText of a catalog view Athena can query: the view's SQL and columns (engine types), base64."""
    definition = {"originalSql": query, "catalog": ATHENA_CATALOG, "schema": database,
                  "columns": [{"name": c["Name"], "type": engine_type(c["Type"])} for c in columns]}
    encoded = base64.b64encode(json.dumps(definition, separators=(",", ":")).encode("utf-8")).decode("ascii")
    return f"/* Presto View: {encoded} */"


class LakeTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, manifest: SourceManifest, prefix: str,
                 database: str) -> None:
        super().__init__(scope, construct_id)
        crawler = manifest.crawler()
        table: dict[str, Any] = crawler["Table"]
        columns = [glue.CfnTable.ColumnProperty(name=c["Name"], type=c["Type"]) for c in table["Columns"]]
        bucket_ref, _, key_prefix = table["Location"].removeprefix("s3://").partition("/")
        location = f"s3://{bucket_name(prefix, zone_of(bucket_ref, BUCKETS))}/{key_prefix}"
        self.batches_name = table["Name"]
        self.batches = glue.CfnTable(
            self, "Batches", catalog_id=Aws.ACCOUNT_ID, database_name=database,
            table_input=glue.CfnTable.TableInputProperty(
                name=table["Name"], table_type="EXTERNAL_TABLE",
                description=f"Every batch of source {manifest.name} (the processed zone); query the view "
                            f"{manifest.name} for the rows Redshift holds",
                parameters={"classification": "parquet", "EXTERNAL": "TRUE"},
                partition_keys=[glue.CfnTable.ColumnProperty(name=k["Name"], type=k["Type"])
                                for k in table["PartitionKeys"]],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=columns, location=location, input_format=PARQUET_INPUT, output_format=PARQUET_OUTPUT,
                    serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=PARQUET_SERDE,
                                                               parameters={"serialization.format": "1"}))))
        view = view_query(manifest.path(VIEW_FILE).read_text(encoding="utf-8"), database)
        self.view_name = view.this.name
        self.view = glue.CfnTable(
            self, "View", catalog_id=Aws.ACCOUNT_ID, database_name=database,
            table_input=glue.CfnTable.TableInputProperty(
                name=self.view_name, table_type="VIRTUAL_VIEW",
                description=f"Source {manifest.name} as Redshift holds it ({manifest.data['redshift']['mode']} "
                            f"load) over {table['Name']}",
                parameters={"presto_view": "true", "comment": "Presto View"},
                view_original_text=presto_view_text(view.expression.sql(dialect=DIALECT), database,
                                                    table["Columns"]),
                view_expanded_text="/* Presto View */",
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(columns=columns)))
        self.view.add_resource_dependency(self.batches)

    def partitions_statement(self, database: str) -> iam.PolicyStatement:
        """What the loader needs to add a loaded batch's partitions to `<source>_batches` (and nothing else)."""
        catalog = Arn.of("arn:{partition}:glue:{region}:{account}").value
        return iam.PolicyStatement(actions=["glue:GetTable", "glue:BatchCreatePartition"], resources=[
            f"{catalog}:catalog", f"{catalog}:database/{database}", f"{catalog}:table/{database}/{self.batches_name}"])


def catalog_conflicts(sources: list[str], datasets: list[str]) -> list[str]:
    """One line per name two things would take in the lake's Glue database: each source has `<source>_batches`
    and the view `<source>`, each exported dataset the table `<dataset>`."""
    owners: dict[str, list[str]] = {}
    for source in sorted(sources):
        owners.setdefault(source, []).append(f"the view of source {source}")
        owners.setdefault(batches_name(source), []).append(f"the batches table of source {source}")
    for dataset in sorted(datasets):
        owners.setdefault(dataset, []).append(f"the export of dataset {dataset}")
    return [f"Glue table {name} would be both {' and '.join(who)}: rename one" for name, who in owners.items()
            if len(who) > 1]
