"""The quotas file (`observability/spec/amp-quotas.yaml`, `quotas/v1`): one positive value per quota, with
where it comes from; every broken entry is one problem naming it. Hand-written files in a temporary folder;
expected values are literals."""

from __future__ import annotations

from pathlib import Path

import pytest

from observability.model.quotas import Quota, load_quotas
from observability.spec.problems import SpecError

NAMES = (
    "rule_namespace_bytes",
    "rule_namespace_fill",
    "namespace_and_group_name_bytes",
    "namespace_name_characters",
    "rules_per_workspace",
    "alertmanager_definition_bytes",
    "configmap_bytes",
    "template_bytes",
)


def entry(name: str, value: str = "100") -> str:
    return f"  {name}:\n    value: {value}\n    unit: bytes\n    source: https://example.com/{name}\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "amp-quotas.yaml"
    path.write_text("version: quotas/v1\nquotas:\n" + body)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as error:
        load_quotas(path)
    return [f"{p.path}: {p.message}" for p in error.value.problems]


def test_each_quota_is_read_with_its_unit_source_and_margin(tmp_path: Path):
    body = "".join(entry(name) for name in NAMES[2:])
    body += "  rule_namespace_bytes:\n    value: 262144\n    unit: bytes\n    source: https://example.com/a\n"
    body += "    unverified: our own cap\n"
    body += "  rule_namespace_fill:\n    value: 0.75\n    source: platform choice\n"
    quotas = load_quotas(write(tmp_path, body))
    assert quotas.rule_namespace_bytes == Quota(262144, "bytes", "https://example.com/a", "our own cap")
    assert quotas.rule_namespace_fill == Quota(0.75, "", "platform choice", "")
    assert quotas.template_bytes == Quota(100, "bytes", "https://example.com/template_bytes", "")
    assert quotas.namespace_budget_bytes == 196608  # 262144 x 0.75


def test_every_missing_or_broken_quota_is_one_problem(tmp_path: Path):
    body = "".join(entry(name) for name in NAMES[3:])
    body += entry("rule_namespace_bytes", "0")
    body += "  rule_namespace_fill:\n    value: 0.5\n    source: ''\n"
    path = write(
        tmp_path,
        body.replace(
            "value: 100\n    unit: bytes\n    source: https://example.com/template_bytes",
            "value: true\n    unit: bytes\n    source: https://example.com/t",
        ),
    )
    assert problems(path) == [
        "quotas.rule_namespace_bytes.value: must be a positive number (got 0)",
        "quotas.rule_namespace_fill.source: must say where the value comes from",
        "quotas.namespace_and_group_name_bytes: is missing",
        "quotas.template_bytes.value: must be a positive number (got True)",
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("version: quotas/v2\nquotas: {}\n", "version: must be 'quotas/v1' (got 'quotas/v2')"),
        ("- a list\n", "version: must be 'quotas/v1' (got ['a list'])"),
    ],
)
def test_a_file_of_another_version_is_refused_whole(tmp_path: Path, text: str, line: str):
    path = tmp_path / "amp-quotas.yaml"
    path.write_text(text)
    assert problems(path) == [line]


def test_a_missing_quotas_file_is_one_problem(tmp_path: Path):
    with pytest.raises(SpecError) as error:
        load_quotas(tmp_path / "absent.yaml")
    assert [(p.path, p.message) for p in error.value.problems] == [("", "file is missing")]
