"""Third-party images: tags by default, a digest from config when an environment pins one."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cdk8s
import pytest
from aws_cdk.assertions import Template

from app import artifacts
from config import ConfigError, PlatformConfig, environment_config
from config.images import IMAGE_KEYS, image_digest_problems
from k8s.images import TAGGED_IMAGES, image_reference
from k8s.monitoring.node_exporter_chart import NodeExporterChart
from stacks.platform_stage import PlatformStage
from tests.unit.conftest import CDK_CONTEXT, KUBERNETES_RESOURCE, Synthesized, render_tokens

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# Made-up digests: the tests check that config reaches the manifests, not what a registry serves.
DIGESTS = {key: "sha256:" + f"{index:x}" * 64 for index, key in enumerate(IMAGE_KEYS, start=1)}


def container_images(manifests: list[dict[str, Any]]) -> set[str]:
    return {
        container["image"]
        for manifest in manifests
        if manifest["kind"] in WORKLOAD_KINDS
        for container in (
            *manifest["spec"]["template"]["spec"]["containers"],
            *manifest["spec"]["template"]["spec"].get("initContainers", []),
        )
    }


def third_party_images(synth: Synthesized) -> set[str]:
    """Every image the platform runs except the web app's own (built from this repository)."""
    return {image for image in container_images(synth.kubernetes_manifests()) if "<token>" not in image}


def manifests_of(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        manifest
        for resource in template["Resources"].values()
        if resource["Type"] == KUBERNETES_RESOURCE
        for manifest in json.loads(render_tokens(resource["Properties"]["Manifest"]))
    ]


def test_every_image_has_a_key_and_a_version_tag():
    assert set(TAGGED_IMAGES) == set(IMAGE_KEYS)
    for image in TAGGED_IMAGES.values():
        assert "@" not in image, image
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest", image
        assert any(ch.isdigit() for ch in tag), image


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_images_run_by_tag_when_no_digest_is_configured(synthesized, variant):
    synth = synthesized[variant]
    assert not synth.config.image_digests
    assert third_party_images(synth) == set(TAGGED_IMAGES.values())


def test_image_reference_appends_the_configured_digest():
    digest = DIGESTS["prometheus"]
    assert image_reference("prometheus", {"prometheus": digest}) == f"{TAGGED_IMAGES['prometheus']}@{digest}"
    assert image_reference("node-exporter", {"prometheus": digest}) == TAGGED_IMAGES["node-exporter"]


def test_a_chart_renders_the_image_it_is_given():
    image = f"{TAGGED_IMAGES['node-exporter']}@{DIGESTS['node-exporter']}"
    chart = NodeExporterChart(cdk8s.Testing.app(), "node-exporter", image=image)
    assert container_images(chart.to_json()) == {image}


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The Workloads and Monitoring manifests of dev with every image pinned (one stage, no cdk-nag)."""
    config = dataclasses.replace(environment_config("dev"), image_digests=DIGESTS)
    app = cdk.App(context=CDK_CONTEXT, outdir=str(Path(tmp_path_factory.mktemp("cdk-pinned"))))
    stage = PlatformStage(app, "Pinned", config=config, artifacts=artifacts(config))
    return [
        manifest
        for stack in (stage.workloads, stage.monitoring)
        for manifest in manifests_of(Template.from_stack(stack).to_json())
    ]


def test_configured_digests_reach_every_third_party_image(pinned):
    images = {image for image in container_images(pinned) if "<token>" not in image}
    assert images == {f"{TAGGED_IMAGES[key]}@{digest}" for key, digest in DIGESTS.items()}


def _config_error(digests: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(environment_config("dev"), image_digests=digests)
    return error.value


@pytest.mark.parametrize(
    ("digests", "message"),
    [
        ({"grafana": DIGESTS["prometheus"]}, "image_digests: keys must be one of"),
        ({"prometheus": "sha256:abc"}, "image_digests: prometheus must be 'sha256:' and 64 lowercase hex"),
        ({"prometheus": "sha256:" + "A" * 64}, "image_digests: prometheus must be 'sha256:'"),
        ({"prometheus": "a" * 64}, "image_digests: prometheus must be 'sha256:'"),
        ({"prometheus": "sha512:" + "a" * 128}, "image_digests: prometheus must be 'sha256:'"),
    ],
    ids=["unknown image", "short", "uppercase hex", "no algorithm", "other algorithm"],
)
def test_a_bad_digest_entry_is_one_clear_config_error(digests, message):
    error = _config_error(digests)
    assert len(error.problems) == 1, error.problems
    assert error.problems[0].startswith(message), error.problems


def test_every_bad_entry_is_reported():
    error = _config_error({"grafana": "x", "postgres": "latest"})
    assert [problem.split(":")[0] for problem in error.problems] == ["image_digests", "image_digests"]


def test_shipped_environments_pin_no_digest():
    # Digests come from the registry an operator pulls from; none was read from a published source here.
    for name in ("dev", "prod"):
        config: PlatformConfig = environment_config(name)
        assert dict(config.image_digests) == {}


def test_a_well_formed_digest_passes_and_a_digest_that_is_not_text_is_refused():
    assert image_digest_problems({"postgres": "sha256:" + "0123456789abcdef" * 4}) == []
    # An environment's Python can hold any value where a digest belongs: the check does not trust the type.
    not_text: dict = {"postgres": 12}
    assert image_digest_problems(not_text) == [
        "image_digests: postgres must be 'sha256:' and 64 lowercase hex digits (got 12)"
    ]
