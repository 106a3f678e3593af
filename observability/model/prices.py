"""The unit prices of one region, read from `observability/spec/prices/<region>.yaml`: each with the page
it was read from and when. A price no page stated is `None`, and the bill shows it as unpriced."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observability import spec
from observability.spec.problems import Collector, Problem, SpecError

VERSION = "prices/v1"


@dataclass(frozen=True, kw_only=True)
class Price:
    usd: float | None  # None: no stored page stated it
    unit: str
    source: str
    read: str  # ISO date the page was read (its own date when it shows one)
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PriceBook:
    region: str
    hours_per_month: float
    prices: Mapping[str, Price]
    instance_hour: Mapping[str, Price] = field(default_factory=dict)  # EC2 on-demand, by instance type

    def instance(self, instance_type: str) -> Price:
        """The hourly price of `instance_type`; unpriced when the file does not list it."""
        found = self.instance_hour.get(instance_type)
        if found is not None:
            return found
        return Price(
            usd=None, unit="instance-hour", source="", read="", note=f"{instance_type} is not listed"
        )


def _price(entry: Mapping[str, Any], usd: Any, where: str, problems: Collector) -> Price | None:
    if usd is not None and (isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0):
        problems.at(f"{where}.usd", f"must be a non-negative number or null (got {usd!r})")
        return None
    for key in ("unit", "source"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            problems.at(f"{where}.{key}", "is missing")
            return None
    read = entry.get("read")
    if not isinstance(read, datetime.date):
        problems.at(f"{where}.read", f"must be the date the price was read, YYYY-MM-DD (got {read!r})")
        return None
    return Price(
        usd=None if usd is None else float(usd),
        unit=entry["unit"],
        source=entry["source"],
        read=read.isoformat(),
        note=str(entry.get("note", "")),
    )


def load_prices(region: str, directory: Path = spec.PRICES_DIR) -> PriceBook:
    path = directory / f"{region}.yaml"
    file = spec.display(path)
    document = spec.read(path)
    if isinstance(document, Problem):
        raise SpecError([Problem(file, "", f"no price file for region {region!r} ({document.message})")])
    if not isinstance(document, dict) or document.get("version") != VERSION:
        got = document.get("version") if isinstance(document, dict) else document
        raise SpecError([Problem(file, "version", f"must be {VERSION!r} (got {got!r})")])
    problems = Collector(file)
    if document.get("region") != region:
        problems.at("region", f"must be {region!r}, the file's name (got {document.get('region')!r})")
    hours = document.get("hours_per_month")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        problems.at("hours_per_month", f"must be a positive number (got {hours!r})")
    entries = document.get("prices")
    entries = entries if isinstance(entries, dict) else {}
    prices: dict[str, Price] = {}
    by_type: dict[str, Price] = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            problems.at(f"prices.{name}", "must be a mapping")
        elif isinstance(entry.get("by_type"), dict):
            for instance_type, usd in entry["by_type"].items():
                price = _price(entry, usd, f"prices.{name}.by_type.{instance_type}", problems)
                if price is not None:
                    by_type[instance_type] = price
        elif (price := _price(entry, entry.get("usd"), f"prices.{name}", problems)) is not None:
            prices[name] = price
    if problems.problems:
        raise SpecError(problems.problems)
    assert isinstance(hours, int | float)  # checked above
    return PriceBook(region=region, hours_per_month=float(hours), prices=prices, instance_hour=by_type)
