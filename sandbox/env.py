"""`make local-env`: the running sandbox's kubeconfig and URLs as shell exports, for
`eval "$(make -s local-env)"` in a second terminal (the learner's path, docs/learn/).

Read from the state the running `make local` recorded (sandbox/control.py), so it answers at once and
starts nothing."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence

from sandbox.control import default_state_dir, read_state


def exports(env: Mapping[str, str]) -> str:
    """One `export NAME=value` line per variable, each value quoted for the shell."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def main(argv: Sequence[str] | None = None) -> int:
    del argv  # no options
    state = read_state(default_state_dir() / "state.json")
    if not state or "env" not in state:
        print(
            "error: no sandbox is running (or it is still starting): start one with `make local`",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(exports(state["env"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
