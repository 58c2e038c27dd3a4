"""The PySpark library every generated Onboard Glue job imports: ``from onboard_glue import run_job``."""

from onboard_glue.job import run_job

__all__ = ["run_job"]
