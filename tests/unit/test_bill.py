"""The monthly bill (`make bill`): counts come from the synthesized templates, prices from the region's
price file, a missing price leaves its line unpriced (never $0). Expected dollars are worked out by hand
from observability/spec/prices/us-east-1.yaml and the dev template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from observability import spec
from observability.bill import Bill, Usage, bill
from observability.billed_resources import BilledResources, count
from observability.model.prices import PriceBook, load_prices
from observability.spec.problems import SpecError
from tests.unit.conftest import Synthesized

US_EAST_1 = (spec.PRICES_DIR / "us-east-1.yaml").read_text()


def all_templates(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [*synthesized.templates.values(), *synthesized.nested_templates.values()]


def resources_of(synthesized: Synthesized) -> BilledResources:
    return count(all_templates(synthesized), az_count=synthesized.config.az_count)


def monthly(result: Bill) -> dict[str, float | None]:
    return {line.item: line.monthly_usd for line in result.lines}


def price_file(tmp_path: Path, text: str) -> PriceBook:
    (tmp_path / "us-east-1.yaml").write_text(text)
    return load_prices("us-east-1", directory=tmp_path)


def test_dev_counts_are_read_from_its_templates(dev: Synthesized):
    found = resources_of(dev)
    assert (found.clusters, found.nat_gateways, found.load_balancers) == (1, 1, 1)
    assert (found.interface_endpoints, found.interface_endpoint_zones) == (0, 0)  # NAT: S3 gateway only
    assert (found.kms_keys, found.secrets, found.alarms) == (3, 1, 1)
    assert (found.grafana_workspaces, found.prometheus_workspaces) == (1, 1)
    assert (
        len(found.log_groups) == 9
    )  # 8 AWS::Logs::LogGroup + EKS's control plane log (Custom::LogRetention)
    assert sorted(g.retention_days or 0 for g in found.log_groups) == [30] * 7 + [731] * 2
    assert sorted(found.function_memory_mb) == [128] * 6 + [256, 256, 1024]
    assert found.volume_gib == 40  # the agent pair's 2 x 10 Gi WAL + Postgres's 20 Gi


def test_a_vpc_without_nat_bills_its_interface_endpoints_in_each_zone(auto: Synthesized):
    found = resources_of(auto)
    assert found.nat_gateways == 0
    assert (found.interface_endpoints, found.interface_endpoint_zones) == (9, 18)  # 9 endpoints x 2 zones


def test_a_new_resource_in_a_stack_changes_the_bill(dev: Synthesized):
    extra = {"Resources": {"AnotherKey": {"Type": "AWS::KMS::Key", "Properties": {}}}}
    found = count([*all_templates(dev), extra], az_count=2)
    prices = load_prices("us-east-1")
    result = bill(config=dev.config, prices=prices, resources=found, samples_per_month=0)
    assert monthly(result)["KMS keys (4)"] == pytest.approx(4.00)


def test_dev_bill_worked_out_by_hand(dev: Synthesized):
    result = bill(
        config=dev.config, prices=load_prices("us-east-1"), resources=resources_of(dev), samples_per_month=1e9
    )
    lines = monthly(result)
    assert lines["EKS control plane"] == pytest.approx(73.00)  # 730 h x $0.10
    assert lines["NAT gateways (1)"] == pytest.approx(32.85)  # 730 h x $0.045
    assert lines["NAT data processed"] == pytest.approx(4.50)  # 100 GB x $0.045
    assert lines["Load balancers (1 ALB)"] == pytest.approx(16.425)  # 730 h x $0.0225
    assert lines["Load balancer capacity units"] == pytest.approx(5.84)  # 730 LCU-h x $0.008
    assert lines["EBS gp3 volumes (40 GiB claimed)"] == pytest.approx(3.20)  # 40 x $0.08
    assert lines["Grafana editors"] == pytest.approx(18.00)  # 2 x $9
    assert lines["Grafana viewers"] == pytest.approx(25.00)  # 5 x $5
    assert lines["KMS keys (3)"] == pytest.approx(3.00)
    assert lines["Secrets (1)"] == pytest.approx(0.40)
    assert lines["CloudWatch alarms (1)"] == pytest.approx(0.10)
    assert lines["CloudWatch Logs ingested (9 groups)"] == pytest.approx(2.25)  # 9 x 0.5 GB x $0.50
    # 0.5 GB a month kept 30 days in 7 groups, 731 days in 2: 0.5 x (7 + 2 x 731 / 30) GB x $0.03
    assert lines["CloudWatch Logs stored (each group's retention)"] == pytest.approx(0.836)
    assert lines["Lambda requests (9 functions)"] == pytest.approx(0.0018)  # 9,000 requests x $0.20 / M
    assert lines["Lambda duration"] == pytest.approx(0.0375075)  # 2.25 GB x 1,000 s x $0.00001667
    assert lines["Interface endpoints (0, 0 zone-attachments)"] == 0
    assert lines["Nodes (2 x m7i.large)"] == pytest.approx(147.168)  # 2 x 730 h x $0.1008
    assert result.total_usd == pytest.approx(185.4403075 + 147.168)
    assert set(result.unpriced) == {
        "AMP ingestion",
        "AMP storage (150 days)",
        "AMP query samples",
    }


def test_a_missing_price_leaves_its_line_unpriced_not_zero(dev: Synthesized, tmp_path: Path):
    without_kms = US_EAST_1.replace("  kms_key_month:\n    usd: 1.00\n", "  kms_key_month:\n    usd: null\n")
    assert without_kms != US_EAST_1
    result = bill(
        config=dev.config,
        prices=price_file(tmp_path, without_kms),
        resources=resources_of(dev),
        samples_per_month=1e9,
    )
    assert monthly(result)["KMS keys (3)"] is None
    assert "KMS keys (3)" in result.unpriced
    assert result.total_usd == pytest.approx(185.4403075 + 147.168 - 3.00)


def test_amp_ingestion_is_the_samples_of_make_cost_times_the_price(dev: Synthesized, tmp_path: Path):
    priced = US_EAST_1.replace("  amp_ingestion:\n    usd: null\n", "  amp_ingestion:\n    usd: 0.90\n")
    result = bill(
        config=dev.config,
        prices=price_file(tmp_path, priced),
        resources=resources_of(dev),
        samples_per_month=2e9,
        nodes=10,
        usage=Usage(grafana_viewers=0),
    )
    lines = monthly(result)
    assert lines["AMP ingestion"] == pytest.approx(180.00)  # 200 x 10 M samples x $0.90
    assert lines["Grafana viewers"] == 0
    assert lines["Nodes (10 x m7i.large)"] == pytest.approx(735.84)  # projected: 10 x 730 h x $0.1008


def test_a_price_without_the_date_it_was_read_is_refused(tmp_path: Path):
    source = "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms"
    undated = US_EAST_1.replace(f"{source}\n    read: 2026-12-06\n", f"{source}\n")
    assert undated != US_EAST_1
    with pytest.raises(SpecError) as error:
        price_file(tmp_path, undated)
    assert "prices.secret_month.read: must be the date the price was read" in str(error.value)


def test_a_region_without_a_price_file_is_named():
    with pytest.raises(SpecError, match="no price file for region 'eu-west-9'"):
        load_prices("eu-west-9")
