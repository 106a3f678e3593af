"""AMP's managed collector (`AWS::APS::Scraper`): scrapes the cluster from ENIs in its subnets and writes to
the workspace, with no pods of ours (monitoring.collector: managed).

What it needs, from the AMP user guide ("Using an AWS managed collector", AMP-collector-how-to.html):
- Subnets in at least two Availability Zones and the cluster's security group ("Create a scraper": "The
  security group and subnets should be set to the security group and subnets for the cluster"). The EKS
  cluster security group admits traffic from itself, so the scraper's ENIs reach the nodes and pods.
- The cluster's endpoint reachable privately (both our endpoint modes include private access) and DNS on
  in the VPC.
- Kubernetes access: with the cluster's authentication mode `API` (ours, see the Cluster stack), AMP
  creates the scraper's EKS access entry and its access policy itself ("Configure Amazon EKS for scraper
  access with access entries"). No `AWS::EKS::AccessEntry` here: one of ours for the same principal
  would collide with AMP's. The guide's `aps-collector-role` ClusterRole and binding are for clusters
  that map IAM through the `aws-auth` ConfigMap only, which ours does not.
- Its IAM role: the service-linked role `AWSServiceRoleForAmazonPrometheusScraper_<id>`, which AMP creates
  (CreateScraper API reference: "An IAM role will be created for you"); its ARN is `RoleArn`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Fn
from aws_cdk import aws_aps as aps
from aws_cdk import aws_logs as logs
from constructs import Construct

# The scraper's parts that log (AMP API reference, ScraperComponent: SERVICE_DISCOVERY | COLLECTOR |
# EXPORTER): discovery, scrape and remote-write errors, the only view into the scraper we have.
LOGGED_COMPONENTS = ("SERVICE_DISCOVERY", "COLLECTOR", "EXPORTER")
# "You must include at least two subnets, in at least two availability zones" (AMP user guide).
MIN_SUBNETS = 2


class ManagedCollector(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_arn: str,
        security_group_id: str,
        subnet_ids: Sequence[str],
        workspace: aps.CfnWorkspace,
        configuration_yaml: str,  # observability.render.managed_config, rendered
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, id_)
        if len(subnet_ids) < MIN_SUBNETS:
            raise ValueError(
                f"the scraper needs subnets in at least {MIN_SUBNETS} zones (got {len(subnet_ids)})"
            )
        self.scraper = aps.CfnScraper(
            self,
            "Scraper",
            source=aps.CfnScraper.SourceProperty(
                eks_configuration=aps.CfnScraper.EksConfigurationProperty(
                    cluster_arn=cluster_arn,
                    subnet_ids=list(subnet_ids),
                    security_group_ids=[security_group_id],
                )
            ),
            destination=aps.CfnScraper.DestinationProperty(
                amp_configuration=aps.CfnScraper.AmpConfigurationProperty(workspace_arn=workspace.attr_arn)
            ),
            # Base64 at deploy time: the configuration holds the cluster's name, known only then.
            scrape_configuration=aps.CfnScraper.ScrapeConfigurationProperty(
                configuration_blob=Fn.base64(configuration_yaml)
            ),
            scraper_logging_configuration=aps.CfnScraper.ScraperLoggingConfigurationProperty(
                logging_destination=aps.CfnScraper.ScraperLoggingDestinationProperty(
                    cloud_watch_logs=aps.CfnScraper.CloudWatchLogDestinationProperty(
                        log_group_arn=log_group.log_group_arn
                    )
                ),
                scraper_components=[
                    aps.CfnScraper.ScraperComponentProperty(type=component) for component in LOGGED_COMPONENTS
                ],
            ),
        )
