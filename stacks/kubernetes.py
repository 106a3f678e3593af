"""Applying cdk8s charts from a stack other than the cluster's."""

from __future__ import annotations

import hashlib
import json
from typing import cast

import cdk8s
from aws_cdk import Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct


def apply_chart(
    scope: Construct, id_: str, *, cluster: eks.Cluster, chart: cdk8s.Chart, overwrite: bool = False
) -> eks.KubernetesManifest:
    """What `cluster.add_cdk8s_chart` does, but owned by `scope`'s stack.

    `add_cdk8s_chart` puts the manifest in the cluster's stack; manifests that reference this stack's
    resources (a secret ARN, an image URI) would then make the two stacks depend on each other.
    """
    return eks.KubernetesManifest(
        scope,
        id_,
        # jsii's Python stubs miss that Cluster implements ICluster.
        cluster=cast(eks.ICluster, cluster),
        manifest=chart.to_json(),
        overwrite=overwrite,
    )


def content_checksum(scope: Construct, text: str) -> str:
    """sha256 of `text` with its CDK tokens in CloudFormation form (`{"Ref": ...}`), not as `${Token[..]}`
    placeholders whose numbering changes between synths: equal content gives an equal checksum."""
    resolved = Stack.of(scope).resolve(text)
    return hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()
