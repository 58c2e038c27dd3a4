"""`onboard new`: infer a source definition from a sample file or a REST endpoint's first answer.

The sample is read by well-kept engines (DuckDB's CSV sniffer, Python's JSON parser, DuckDB for Parquet,
openpyxl for XLSX); what they guess is then checked against the casts the Glue job really makes
(`columns.infer_column`), so the written definition loads the same sample with nothing quarantined.
"""

from framework.infer.columns import InferredColumn, infer_column
from framework.infer.definition import definition_text
from framework.infer.sample import Field, Sample, SampleError, as_json_lines, read_sample

__all__ = ["Field", "InferredColumn", "Sample", "SampleError", "as_json_lines", "definition_text", "infer_column",
           "read_sample"]
