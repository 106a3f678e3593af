"""Write the generated dashboards, one JSON file per dashboard, for importing into your own Grafana.

    python scripts/dashboards.py [--out dist/dashboards] [--grafana-version 10.4]

Each file is the dashboard's JSON model (`<uid>.json`); its panels read the data source with uid `amp`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from observability.dashboards import all_dashboards  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("dist/dashboards"))
    parser.add_argument("--grafana-version", default="10.4")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for model in all_dashboards(args.grafana_version):
        path = args.out / f"{model['uid']}.json"
        path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n")
        print(path)


if __name__ == "__main__":
    main()
