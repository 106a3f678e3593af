"""EKS Auto Mode settings that CloudFormation cannot express: network policy and the workload node pool."""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.workloads import IngressScheme
from observability import names

WORKLOAD_NODE_POOL = "workloads"


class AutoModeChart(cdk8s.Chart):
    """Turns on NetworkPolicy enforcement and adds a node pool whose NodeClass enforces it.

    The built-in `general-purpose` pool's NodeClass cannot be edited, so workloads run in our own pool.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        node_role_name: str,
        subnet_ids: Sequence[str],
        security_group_id: str,
        instance_types: Sequence[str],
        cpu_limit: int,
        ingress_scheme: IngressScheme,
        load_balancer_subnet_ids: Sequence[str],
        tls_certificate_arn: str | None,
    ) -> None:
        super().__init__(scope, id_, disable_resource_name_hashes=True)
        self.network_policy_config = k8s.KubeConfigMap(
            self,
            "NetworkPolicyController",
            metadata=k8s.ObjectMeta(name="amazon-vpc-cni", namespace="kube-system"),
            data={"enable-network-policy-controller": "true"},
        )
        self.node_class = cdk8s.ApiObject(
            self,
            "NodeClass",
            api_version="eks.amazonaws.com/v1",
            kind="NodeClass",
            metadata=cdk8s.ApiObjectMetadata(name=WORKLOAD_NODE_POOL),
        )
        # Custom resources have no typed spec in cdk8s: add it as a JSON patch.
        self.node_class.add_json_patch(
            cdk8s.JsonPatch.add(
                "/spec",
                {
                    "role": node_role_name,
                    "subnetSelectorTerms": [{"id": subnet_id} for subnet_id in subnet_ids],
                    "securityGroupSelectorTerms": [{"id": security_group_id}],
                    "networkPolicy": "DefaultAllow",  # namespaces opt in to deny with their own policies
                    "networkPolicyEventLogs": "Enabled",
                },
            )
        )
        self.node_pool = cdk8s.ApiObject(
            self,
            "NodePool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata=cdk8s.ApiObjectMetadata(name=WORKLOAD_NODE_POOL),
        )
        self.node_pool.add_json_patch(
            cdk8s.JsonPatch.add(
                "/spec",
                {
                    "template": {
                        "spec": {
                            "nodeClassRef": {
                                "group": "eks.amazonaws.com",
                                "kind": "NodeClass",
                                "name": WORKLOAD_NODE_POOL,
                            },
                            "requirements": [
                                {
                                    "key": "karpenter.sh/capacity-type",
                                    "operator": "In",
                                    "values": ["on-demand"],
                                },
                                {
                                    "key": "node.kubernetes.io/instance-type",
                                    "operator": "In",
                                    "values": list(instance_types),
                                },
                            ],
                        }
                    },
                    "disruption": {
                        "consolidationPolicy": "WhenEmptyOrUnderutilized",
                        "consolidateAfter": "5m",
                    },
                    # No new node once the pool's nodes add up to this many vCPUs: a runaway scale-out
                    # stops at the configured size instead of at the account's quota.
                    "limits": {"cpu": str(cpu_limit)},
                },
            )
        )
        # Auto Mode's built-in load balancing reads the ALB scheme, subnets and certificate from
        # IngressClassParams.
        self.ingress_class_params = cdk8s.ApiObject(
            self,
            "IngressClassParams",
            api_version="eks.amazonaws.com/v1",
            kind="IngressClassParams",
            metadata=cdk8s.ApiObjectMetadata(name=names.ALB_INGRESS_CLASS),
        )
        self.ingress_class_params.add_json_patch(
            cdk8s.JsonPatch.add(
                "/spec",
                {
                    "scheme": ingress_scheme.value,
                    "subnets": {"ids": list(load_balancer_subnet_ids)},
                    # The Ingress names its listeners and TLS policy; Auto Mode takes the certificate
                    # from here (`certificateARNs` is the documented field; no TLS policy field is).
                    **({"certificateARNs": [tls_certificate_arn]} if tls_certificate_arn is not None else {}),
                },
            )
        )
        self.ingress_class = k8s.KubeIngressClass(
            self,
            "IngressClass",
            metadata=k8s.ObjectMeta(name=names.ALB_INGRESS_CLASS),
            spec=k8s.IngressClassSpec(
                controller="eks.amazonaws.com/alb",
                parameters=k8s.IngressClassParametersReference(
                    api_group="eks.amazonaws.com", kind="IngressClassParams", name=names.ALB_INGRESS_CLASS
                ),
            ),
        )
