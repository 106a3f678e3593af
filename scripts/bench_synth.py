"""Median wall time of a full `make synth` (dependencies already installed) over several runs."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--env", default="dev")
    args = parser.parse_args()

    subprocess.run(["make", "--no-print-directory", "deps"], cwd=REPOSITORY, check=True)
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run(
            ["make", "--no-print-directory", "synth", f"ENV={args.env}"],
            cwd=REPOSITORY,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timings.append(time.perf_counter() - started)
    print(
        f"make synth ENV={args.env}: median {statistics.median(timings):.2f} s over {args.runs} runs "
        f"(min {min(timings):.2f} s, max {max(timings):.2f} s) on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
