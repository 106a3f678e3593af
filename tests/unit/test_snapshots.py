"""One snapshot per stack catches every change the fine-grained tests do not name.

After an intended change: `make snapshot-update`, then review the diff like code.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.unit.conftest import STACK_ROLES, synthesize

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def normalised(template: dict[str, Any]) -> Any:
    """The template with asset hashes (which change with any aws-cdk-lib bundle) replaced."""
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("role", STACK_ROLES)
@pytest.mark.parametrize("variant", ["dev", "auto", "managed"])
def test_stack_matches_snapshot(synthesized, snapshot_json, variant, role):
    assert normalised(synthesized[variant].templates[role]) == snapshot_json


@pytest.mark.parametrize("variant", ["dev", "auto", "managed"])
def test_kubernetes_manifests_match_snapshot(synthesized, snapshot_json, variant):
    """The objects the cluster applies, readable on their own (they are strings inside the templates)."""
    assert normalised(synthesized[variant].kubernetes_manifests()) == snapshot_json


def test_synth_is_deterministic(dev, tmp_path):
    """A second synth of the same config gives byte-identical templates, asset hashes included."""
    again = synthesize(dev.config, tmp_path)
    for role in STACK_ROLES:
        assert json.dumps(again.templates[role], sort_keys=True) == json.dumps(
            dev.templates[role], sort_keys=True
        )
