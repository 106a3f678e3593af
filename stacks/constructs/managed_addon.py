"""An EKS managed add-on, the way both capacity modes install them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from stacks.naming import construct_id


def managed_addon(
    scope: Construct,
    *,
    cluster: eks.Cluster,
    name: str,
    version: str | None,
    configuration: Mapping[str, object] | None = None,
    pod_identity: Sequence[eks.CfnAddon.PodIdentityAssociationProperty] | None = None,
) -> eks.CfnAddon:
    """The add-on `name` (construct id in PascalCase); `version` None lets EKS pick its default build for
    the cluster's Kubernetes version."""
    return eks.CfnAddon(
        scope,
        construct_id(name),
        cluster_name=cluster.cluster_name,
        addon_name=name,
        addon_version=version,
        configuration_values=json.dumps(configuration) if configuration else None,
        # Take over the self-managed copies EKS bootstraps (vpc-cni, coredns, kube-proxy).
        resolve_conflicts="OVERWRITE",
        preserve_on_delete=False,
        pod_identity_associations=list(pod_identity) if pod_identity else None,
    )
