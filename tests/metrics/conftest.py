"""Fixtures of the metrics suite. The real-process tests share one xdist worker (group "metrics")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# jsii (cdk8s) runs `node` from PATH: make sure it is the venv's Node 24 even when pytest runs directly.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from harness.manifests import Manifests, synthesize


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; repeated so this suite runs on its own.
    config.addinivalue_line("markers", "integration: starts real processes on 127.0.0.1")
    config.addinivalue_line("markers", "xdist_group(name): run tests of a group on one worker")


@pytest.fixture(scope="session")
def manifests() -> Manifests:
    """The charts' manifests, synthesized once per session (cdk8s starts a jsii Node process), with one
    agent replica (`monitoring.agent_replicas: 1`, a valid configuration): the tier runs one agent on its
    pod, and its receiver has no stand-in for AMP's deduplication of a pair. The pair is tested on its own
    (test_agent_ha.py; its two pods in tests/cluster)."""
    return synthesize(agent_replicas=1)
