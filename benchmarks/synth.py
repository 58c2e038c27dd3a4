"""Synth time for 1, 10 and 50 generated sources: `onboard synth` (cdk-nag and cfn-lint on) in a fresh process.

Each size gets a temporary project: N copies of the sales_transactions example under their own names and
prefixes, rendered with `onboard generate`'s code. Prints wall time of the whole command (Python and jsii
start-up included) and the time `onboard synth` itself reports (app build, synth with cdk-nag, cfn-lint).

    .venv/bin/python benchmarks/synth.py [--sizes 1 10 50]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "sources/sales_transactions.yaml"


def make_project(root: Path, count: int) -> None:
    from framework.project import Project
    from framework.render import render_project, write_generated
    from framework.spec import load_project

    (root / "sources").mkdir(parents=True)
    shutil.copytree(REPO / "schemas", root / "schemas")
    text = re.sub(r"(?m)^\s*example_input:.*\n", "", TEMPLATE.read_text(encoding="utf-8"))
    for i in range(count):
        name = f"bench_{i:03d}"
        source = text.replace("name: sales_transactions", f"name: {name}").replace(
            "prefix: incoming/sales/", f"prefix: incoming/{name}/").replace("table: transactions", f"table: {name}")
        (root / "sources" / f"{name}.yaml").write_text(source, encoding="utf-8")
    project = Project.at(root)
    write_generated(project, render_project(load_project(project)))


def synth_once(root: Path) -> tuple[float, ...]:
    started = time.perf_counter()
    result = subprocess.run([str(Path(sys.executable).with_name("onboard")), "--project", str(root), "synth"],
                            capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"synth failed:\n{result.stdout}\n{result.stderr}")
    total = float(re.search(r" in ([0-9.]+) s", result.stdout).group(1))
    parts = re.search(r"build ([0-9.]+) s, synth with cdk-nag ([0-9.]+) s, cfn-lint ([0-9.]+) s", result.stdout)
    return wall, total, *(float(x) for x in parts.groups())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    print(f"{'sources':>7} {'stacks':>6} {'wall s':>7} {'onboard synth s':>15} {'build s':>7} {'synth+nag s':>11} "
          f"{'cfn-lint s':>10} {'s/source':>8}")
    for count in args.sizes:
        with tempfile.TemporaryDirectory(prefix="onboard-bench-") as folder:
            root = Path(folder)
            make_project(root, count)
            wall, total, build, synth, lint = synth_once(root)
            print(f"{count:>7} {count + 1:>6} {wall:>7.1f} {total:>15.1f} {build:>7.1f} {synth:>11.1f} {lint:>10.1f} "
                  f"{total / count:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
