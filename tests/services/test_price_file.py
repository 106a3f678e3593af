"""The price file (`observability/spec/prices/<region>.yaml`, `prices/v1`): each price is `usd` per `unit`
(null: unpriced), the page it was read from and the date it was read; EC2 prices by instance type. Every
broken entry is one problem naming its field. Hand-written files in a temporary folder; no synth."""

from __future__ import annotations

from pathlib import Path

import pytest

from observability.model.prices import Price, load_prices
from observability.spec.problems import SpecError

HEADER = "version: prices/v1\nregion: eu-west-1\nhours_per_month: 730\nprices:\n"


def book(tmp_path: Path, prices: str, header: str = HEADER):
    (tmp_path / "eu-west-1.yaml").write_text(header + prices)
    return load_prices("eu-west-1", directory=tmp_path)


def problems(tmp_path: Path, prices: str, header: str = HEADER) -> list[str]:
    with pytest.raises(SpecError) as error:
        book(tmp_path, prices, header)
    return [f"{p.path}: {p.message}" for p in error.value.problems]


def test_prices_are_read_with_their_unit_source_date_and_note(tmp_path: Path):
    prices = book(
        tmp_path,
        "  kms_key_month:\n    usd: 1\n    unit: key-month\n    source: https://example.com/kms\n"
        "    read: 2026-12-06\n    note: from the page\n"
        "  amp_ingestion:\n    usd: null\n    unit: samples\n    source: https://example.com/amp\n"
        "    read: 2026-11-30\n"
        "  ec2_instance_hour:\n    unit: instance-hour\n    source: https://example.com/ec2\n"
        "    read: 2026-12-01\n"
        "    by_type:\n      m7i.xlarge: 0.2016\n      m7i.large: null\n",
        header="version: prices/v1\nregion: eu-west-1\nhours_per_month: 720\nprices:\n",
    )
    assert prices.region == "eu-west-1"
    assert prices.hours_per_month == 720.0
    assert dict(prices.prices) == {
        "kms_key_month": Price(
            usd=1.0,
            unit="key-month",
            source="https://example.com/kms",
            read="2026-12-06",
            note="from the page",
        ),
        "amp_ingestion": Price(usd=None, unit="samples", source="https://example.com/amp", read="2026-11-30"),
    }
    assert isinstance(prices.prices["kms_key_month"].usd, float)
    assert prices.instance("m7i.xlarge") == Price(
        usd=0.2016, unit="instance-hour", source="https://example.com/ec2", read="2026-12-01"
    )
    assert prices.instance("m7i.large").usd is None
    assert prices.instance("m7i.large").source == "https://example.com/ec2"


def test_zero_is_a_price_and_an_unlisted_instance_type_is_unpriced(tmp_path: Path):
    # A free item is priced $0, not unpriced: only null (or no line) is unpriced.
    prices = book(
        tmp_path,
        "  free_month:\n    usd: 0\n    unit: month\n    source: https://example.com/free\n"
        "    read: 2026-12-06\n",
    )
    assert prices.prices["free_month"].usd == 0.0
    assert prices.instance("c7g.large") == Price(
        usd=None, unit="instance-hour", source="", read="", note="c7g.large is not listed"
    )


def test_every_broken_price_is_one_problem_naming_its_field(tmp_path: Path):
    found = problems(
        tmp_path,
        "  negative:\n    usd: -0.01\n    unit: hour\n    source: https://example.com/a\n"
        "    read: 2026-12-06\n"
        "  text:\n    usd: '0.10'\n    unit: hour\n    source: https://example.com/b\n    read: 2026-12-06\n"
        "  boolean:\n    usd: true\n    unit: hour\n    source: https://example.com/c\n    read: 2026-12-06\n"
        "  no_unit:\n    usd: 1\n    source: https://example.com/d\n    read: 2026-12-06\n"
        "  empty_source:\n    usd: 1\n    unit: hour\n    source: ''\n    read: 2026-12-06\n"
        "  undated:\n    usd: 1\n    unit: hour\n    source: https://example.com/e\n    read: last week\n"
        "  not_a_mapping: 0.10\n"
        "  ec2:\n    unit: instance-hour\n    source: https://example.com/f\n    read: 2026-12-06\n"
        "    by_type:\n      m7i.large: -1\n",
    )
    assert found == [
        "prices.negative.usd: must be a non-negative number or null (got -0.01)",
        "prices.text.usd: must be a non-negative number or null (got '0.10')",
        "prices.boolean.usd: must be a non-negative number or null (got True)",
        "prices.no_unit.unit: is missing",
        "prices.empty_source.source: is missing",
        "prices.undated.read: must be the date the price was read, YYYY-MM-DD (got 'last week')",
        "prices.not_a_mapping: must be a mapping",
        "prices.ec2.by_type.m7i.large.usd: must be a non-negative number or null (got -1)",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "version: prices/v1\nregion: us-east-1\nhours_per_month: 730\nprices:\n",
            ["region: must be 'eu-west-1', the file's name (got 'us-east-1')"],
        ),
        (
            "version: prices/v1\nregion: eu-west-1\nhours_per_month: 0\nprices:\n",
            ["hours_per_month: must be a positive number (got 0)"],
        ),
        (
            "version: prices/v1\nregion: eu-west-1\nhours_per_month: true\nprices:\n",
            ["hours_per_month: must be a positive number (got True)"],
        ),
        (
            "version: prices/v1\nregion: eu-west-1\nprices:\n",
            ["hours_per_month: must be a positive number (got None)"],
        ),
    ],
    ids=["another region", "zero hours", "hours not a number", "no hours"],
)
def test_the_files_region_and_hours_are_checked(tmp_path: Path, header: str, expected: list[str]):
    priced = "  a:\n    usd: 1\n    unit: hour\n    source: https://example.com/a\n    read: 2026-12-06\n"
    assert problems(tmp_path, priced, header) == expected


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("version: prices/v2\nprices: {}\n", "version: must be 'prices/v1' (got 'prices/v2')"),
        ("- a list\n", "version: must be 'prices/v1' (got ['a list'])"),
    ],
)
def test_a_file_of_another_version_is_refused_whole(tmp_path: Path, text: str, line: str):
    (tmp_path / "eu-west-1.yaml").write_text(text)
    with pytest.raises(SpecError) as error:
        load_prices("eu-west-1", directory=tmp_path)
    assert [f"{p.file.rsplit('/', 1)[-1]}: {p.path}: {p.message}" for p in error.value.problems] == [
        f"eu-west-1.yaml: {line}"
    ]


def test_a_region_without_a_file_names_the_region_and_the_reason(tmp_path: Path):
    with pytest.raises(SpecError) as error:
        load_prices("eu-west-9", directory=tmp_path)
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("", "no price file for region 'eu-west-9' (file is missing)")
    ]


def test_each_problem_names_the_price_file(tmp_path: Path):
    (tmp_path / "eu-west-1.yaml").write_text(HEADER.replace("eu-west-1", "us-east-1") + "  a: 1\n")
    with pytest.raises(SpecError) as error:
        load_prices("eu-west-1", directory=tmp_path)
    assert [p.file for p in error.value.problems] == [str(tmp_path / "eu-west-1.yaml")] * 2
    with pytest.raises(SpecError) as error:
        load_prices("eu-west-9", directory=tmp_path)
    assert [p.file for p in error.value.problems] == [str(tmp_path / "eu-west-9.yaml")]


def test_any_positive_number_of_hours_and_a_file_without_prices_leave_everything_unpriced(tmp_path: Path):
    prices = book(
        tmp_path, "", header="version: prices/v1\nregion: eu-west-1\nhours_per_month: 0.5\nprices: []\n"
    )
    assert (prices.hours_per_month, dict(prices.prices), dict(prices.instance_hour)) == (0.5, {}, {})
