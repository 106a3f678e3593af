"""Write the generated dashboards, one JSON file per dashboard, in two forms:

    python scripts/dashboards.py [--out dist/dashboards] [--grafana-version 10.4]

- `<out>/import/<uid>.json`: Grafana's external export format, for Dashboards > New > Import in any
  Grafana: the import dialog asks for a Prometheus or Amazon Managed Prometheus data source (`${DS_AMP}`).
- `<out>/provisioned/<uid>.json`: the JSON models exactly as the Grafana stack uploads them, reading the
  data source with uid `amp` that the stack creates.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from observability.dashboards import all_dashboards  # noqa: E402
from observability.importable_dashboard import importable  # noqa: E402


def write(path: Path, model: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n")
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("dist/dashboards"))
    parser.add_argument("--grafana-version", default="10.4")
    args = parser.parse_args()
    release = ".".join([*args.grafana_version.split("."), "0", "0"][:3])  # "10.4" -> "10.4.0"
    for model in all_dashboards(args.grafana_version):
        write(args.out / "provisioned" / f"{model['uid']}.json", model)
        write(args.out / "import" / f"{model['uid']}.json", importable(model, grafana_version=release))


if __name__ == "__main__":
    main()
