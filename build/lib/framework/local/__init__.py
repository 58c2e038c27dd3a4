"""The embedded default: local lake, local Spark and a DuckDB warehouse running the generated artifacts."""
