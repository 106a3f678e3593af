"""Break the running sandbox on purpose: `make fault FAULT=<name> [MS=<ms>] [POD=<workload or pod>]
[NODE=<node>] [REPLICAS=<n>]` (which runs `python -m sandbox.fault <name> [--ms N] [--pod P] [--node N]
[--replicas N]`), or `FAULT=status`. Talks to the control endpoint the running
`make local` recorded. Its help and errors speak the `make` form, the one a user types."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sandbox.control import NotRunningError, read_status, send_fault
from sandbox.faults import DEFAULT_LATENCY_MS, DEFAULT_POD, FAULTS, STATUS

USAGE = "make fault FAULT=<name> [MS=<ms>] [POD=<workload or pod>] [NODE=<node>] [REPLICAS=<n>]"
# The parameter each fault takes, by its option's name.
PARAMETERS = {
    "add-latency": "ms",
    "delete-pod": "pod",
    "drain-node": "node",
    "uncordon-node": "node",
    "scale": "replicas",
}


def parser() -> argparse.ArgumentParser:
    choices = (*FAULTS, STATUS)
    description = (
        "Break the sandbox `make local` runs (in another terminal). <name> is one of:\n"
        + "\n".join(f"  {f.name:<16} {f.help}" for f in choices)
        + f"\nMS: add-latency's delay per query message in ms (default {DEFAULT_LATENCY_MS})."
        + f"\nPOD: delete-pod's workload or pod (default {DEFAULT_POD})."
        + "\nNODE: drain-node's and uncordon-node's node (kwok-node-a or kwok-node-b; FAULT=status lists"
        + " the nodes and where each pod runs)."
        + "\nREPLICAS: scale's count of orders API pods."
        + "\ne.g. make fault FAULT=stop-postgres, make fault FAULT=add-latency MS=250"
        + "\ne.g. make fault FAULT=delete-pod POD=orders-api, make fault FAULT=drain-node NODE=kwok-node-a,"
        + " make fault FAULT=scale REPLICAS=3"
    )
    result = argparse.ArgumentParser(
        prog="make fault",
        usage=USAGE,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,  # `make fault` alone shows this help; -h/--ms are not what a user types
    )
    result.add_argument("fault", choices=[f.name for f in choices], metavar="FAULT", help=argparse.SUPPRESS)
    result.add_argument("--ms", type=int, default=DEFAULT_LATENCY_MS, help=argparse.SUPPRESS)
    result.add_argument("--pod", default=DEFAULT_POD, help=argparse.SUPPRESS)
    result.add_argument("--node", help=argparse.SUPPRESS)
    result.add_argument("--replicas", type=int, help=argparse.SUPPRESS)
    result.add_argument("--help", action="help", help=argparse.SUPPRESS)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.fault == "status":
            print(json.dumps(read_status(), indent=2))
            return 0
        option = PARAMETERS.get(args.fault)
        given = getattr(args, option) if option else None
        params = {option: given} if option and given is not None else {}
        print(send_fault(args.fault, params))
    except (NotRunningError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
