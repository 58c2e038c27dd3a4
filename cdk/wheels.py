"""Python packages a Glue job needs beyond Glue's own, shipped as wheels from the lake's artifact bucket.

The manifest names requirements (`glue.python_modules`, e.g. `openpyxl==3.1.5` for XLSX); each maps to the
wheels of it and its dependencies in `wheelhouse/` beside this module. The platform stack copies the wheels the
project's sources need to `s3://<artifact bucket>/glue-wheels/` (a BucketDeployment: pip reads a wheel's name and
version from its file name, which a CDK asset's hashed key would lose), and each job installs them from there
(`--additional-python-modules` with their S3 paths, `--python-modules-installer-option --no-index`), so a job
start never reaches the public package index.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

WHEELHOUSE = Path(__file__).resolve().parent / "wheelhouse"
WHEELS_PREFIX = "glue-wheels/"
# requirement -> the wheels that install it without an index (pure Python: any Glue worker architecture).
WHEELS = {
    "openpyxl==3.1.5": ("openpyxl-3.1.5-py2.py3-none-any.whl", "et_xmlfile-2.0.0-py3-none-any.whl"),
}


def wheel_names(requirements: Iterable[str]) -> list[str]:
    """The wheel file names of `requirements`, each once, in order; an unknown requirement says what is shipped."""
    names: list[str] = []
    for requirement in requirements:
        if requirement not in WHEELS:
            raise ValueError(f"no wheel shipped for {requirement!r}; shipped: {', '.join(sorted(WHEELS))} "
                             f"(add its wheels to {WHEELHOUSE} and to onboard_cdk.wheels.WHEELS)")
        names += [name for name in WHEELS[requirement] if name not in names]
    return names


def wheel_keys(requirements: Iterable[str]) -> list[str]:
    """The artifact bucket keys of the wheels of `requirements`."""
    return [WHEELS_PREFIX + name for name in wheel_names(requirements)]
