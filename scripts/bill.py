"""The platform's monthly bill for one environment: every billed line (EKS, nodes, volumes, NAT,
endpoints, load balancer, AMP, Grafana, KMS, secrets, logs, alarms, Lambda), counted from the
environment's config and its synthesized templates, priced from observability/spec/prices/<region>.yaml;
then the same bill projected to the simulated cluster sizes of `make scale`.

    make bill                      # ENV=dev; ENV=prod; REGION=<region> re-prices with <region>.yaml

Synth only (offline, no AWS calls); AMP's samples come from `make cost`'s measured series (below), not a
new run of its pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402

from app import build  # noqa: E402
from config import PlatformConfig, environment_config  # noqa: E402
from observability import billed_resources  # noqa: E402
from observability.bill import Bill, Usage, bill  # noqa: E402
from observability.billed_resources import BilledResources  # noqa: E402
from observability.model.prices import PriceBook, load_prices  # noqa: E402

# `make cost`'s result (docs/architecture/metrics-cost.md): 4,488 active series kept on its 3-node reference
# cluster, of which node-exporter (237), kubelet (84) and cAdvisor (1,099) grow with the node count.
COST_REFERENCE_NODES = 3
COST_SERIES_PER_NODE = (237 + 84 + 1_099) / COST_REFERENCE_NODES
COST_SERIES_FIXED = 4_488 - (237 + 84 + 1_099)
SIMULATED_NODES = (10, 50, 200, 500)  # the sizes of `make scale` (issue #20)


def samples_per_month(*, nodes: int, interval_seconds: int, hours_per_month: float) -> float:
    """AMP samples a month for `nodes` nodes: per-node series scaled, the rest held at `make cost`'s count
    (a lower bound: pods, and their series, grow with the cluster too)."""
    series = COST_SERIES_FIXED + COST_SERIES_PER_NODE * nodes
    return series * hours_per_month * 3600 / interval_seconds


def synthesized_resources(config: PlatformConfig) -> BilledResources:
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory(prefix="bill-") as outdir:
        app = cdk.App(outdir=outdir, context=context)
        stage = build(app, config)
        app.synth()
        directory = Path(stage.synth().directory)
        templates = [json.loads(path.read_text()) for path in sorted(directory.glob("*.template.json"))]
    return billed_resources.count(templates, az_count=config.az_count)


def money(usd: float | None) -> str:
    return "**unpriced**" if usd is None else f"${usd:,.2f}"


def number(value: float) -> str:
    """Up to 8 decimals, no trailing zeros: unit prices like $0.00001667 stay readable."""
    return f"{value:,.8f}".rstrip("0").rstrip(".")


def table(result: Bill) -> str:
    lines = [
        f"Monthly bill of `{result.environment}` in {result.region} ({result.nodes} nodes, "
        f"{result.samples_per_month / 1e9:,.2f} B AMP samples a month):",
        "",
        "| line item | quantity | unit | unit price | monthly | source (read) |",
        "|---|---:|---|---:|---:|---|",
    ]
    for line in result.lines:
        price = line.price
        unit_price = "**unpriced**" if price.usd is None else f"${number(price.usd)}"
        source = f"{price.source} ({price.read})" if price.source else price.note
        quantity, monthly = number(round(line.quantity, 3)), money(line.monthly_usd)
        lines.append(f"| {line.item} | {quantity} | {price.unit} | {unit_price} | {monthly} | {source} |")
    lines.append(f"| **total (priced lines)** | | | | **{money(result.total_usd)}** | |")
    if result.unpriced:
        lines.append(f"\nUnpriced (not in the total, not zero): {', '.join(result.unpriced)}.")
    return "\n".join(lines)


def projection(config: PlatformConfig, prices: PriceBook, resources: BilledResources) -> str:
    lines = [
        f"\nProjection, not a measurement: `{config.name}` at the simulated cluster sizes, nodes and AMP "
        "ingestion scaled (per-node series from `make cost`), everything else as above:",
        "",
        "| nodes | nodes monthly | AMP samples / month | AMP ingestion | total (priced lines) | unpriced |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for nodes in SIMULATED_NODES:
        samples = samples_per_month(
            nodes=nodes,
            interval_seconds=config.monitoring.scrape_interval_seconds,
            hours_per_month=prices.hours_per_month,
        )
        result = bill(
            config=config, prices=prices, resources=resources, samples_per_month=samples, nodes=nodes
        )
        by_item = {line.item.split(" (")[0]: line.monthly_usd for line in result.lines}
        node_usd, amp_usd = by_item["Nodes"], by_item["AMP ingestion"]
        lines.append(
            f"| {nodes} | {money(node_usd)} | {samples / 1e9:,.2f} B | {money(amp_usd)} "
            f"| {money(result.total_usd)} | {len(result.unpriced)} lines |"
        )
    return "\n".join(lines)


def assumptions(usage: Usage) -> str:
    rows = "\n".join(f"- `{name}` = {getattr(usage, name):,}" for name in usage.__dataclass_fields__)
    return f"\nAssumed usage (observability/bill.py `Usage`; not measured, change to your traffic):\n{rows}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="dev", help="environment (config/environments.py)")
    parser.add_argument(
        "--region", default=None, help="price file to use (default: the environment's region)"
    )
    args = parser.parse_args()
    config = environment_config(args.env)
    prices = load_prices(args.region or config.region)
    resources = synthesized_resources(config)
    samples = samples_per_month(
        nodes=config.node_min_size,
        interval_seconds=config.monitoring.scrape_interval_seconds,
        hours_per_month=prices.hours_per_month,
    )
    print(table(bill(config=config, prices=prices, resources=resources, samples_per_month=samples)))
    print(assumptions(Usage()))
    print(projection(config, prices, resources))


if __name__ == "__main__":
    main()
