"""Break the running sandbox on purpose: `python -m sandbox.fault <fault> [--ms N]` (`make fault
FAULT=...`), or `status`. Talks to the control endpoint the running `make local` recorded."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sandbox.control import NotRunningError, read_status, send_fault
from sandbox.faults import DEFAULT_LATENCY_MS, FAULTS


def parser() -> argparse.ArgumentParser:
    epilog = "faults:\n" + "\n".join(f"  {f.name:<15} {f.help}" for f in FAULTS)
    result = argparse.ArgumentParser(
        prog="make fault FAULT=", epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    result.add_argument("fault", choices=[*(f.name for f in FAULTS), "status"], metavar="fault")
    result.add_argument("--ms", type=int, default=DEFAULT_LATENCY_MS, help="add-latency: delay per query")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.fault == "status":
            print(json.dumps(read_status(), indent=2))
            return 0
        params = {"ms": args.ms} if args.fault == "add-latency" else {}
        print(send_fault(args.fault, params))
    except (NotRunningError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
