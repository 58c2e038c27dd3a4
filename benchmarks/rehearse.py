"""Wall time of `onboard rehearse` against `onboard run` for one source, each in a fresh process.

Each command gets its own empty state folder (ONBOARD_HOME), so both start cold (Spark start-up included).
The rehearsal is timed twice: the first synthesizes the cloud assembly into a temporary folder (cdk-nag and
cfn-lint on), the second reuses it, which is what a rehearsal after an unchanged synth costs.

    .venv/bin/python benchmarks/rehearse.py [--source customers]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ONBOARD = Path(sys.executable).with_name("onboard")


def timed(args: list[str], home: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(ONBOARD), "--project", str(REPO), *args], check=True, env={**os.environ, "ONBOARD_HOME":
                   str(home)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="customers")
    source = parser.parse_args().source
    with tempfile.TemporaryDirectory(prefix="onboard-rehearse-bench-") as tmp:
        root = Path(tmp)
        outdir = root / "cdk.out"
        run = timed(["run", source, "--json"], root / "run")
        first = timed(["rehearse", source, "--json", "--out", str(outdir)], root / "rehearse-1")
        second = timed(["rehearse", source, "--json", "--out", str(outdir)], root / "rehearse-2")
    print(f"{source}: onboard run {run:.1f} s; onboard rehearse {second:.1f} s with a current cdk.out "
          f"({second / run:.1f}x), {first:.1f} s when it synthesizes first")


if __name__ == "__main__":
    main()
