"""Write every artifact the platform renders from services/ and the observability spec as plain files
(`make render`), so a change shows as a readable diff:

    dist/rules/<namespace>.yaml     the AMP rule groups namespaces (SLO rules, platform alerts)
    dist/alertmanager.yaml          the AMP Alertmanager definition (placeholder SNS topic ARNs)
    dist/agent/prometheus.yaml      the Prometheus agent's configuration (placeholder cluster and workspace)
    dist/dashboards/<uid>.json      the Grafana dashboards as provisioned: the platform's, one per service

The cluster, workspace and topics are placeholders: a deployed stack fills in its own. Exits 1 with the
list of problems when a service file breaks a rule.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

# The policies for other namespaces are cdk8s objects: jsii runs the venv's Node 24 even outside `make`.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from config.alerting import AlertingConfig  # noqa: E402
from k8s.service_network_policy import PLATFORM_NAMESPACES, agent_ingress_policy  # noqa: E402
from observability import alertmanager  # noqa: E402
from observability.model.load import Services, load  # noqa: E402
from observability.model.quotas import load_quotas  # noqa: E402
from observability.render import render, scrape_config  # noqa: E402
from observability.render.rules import dump as rules_yaml  # noqa: E402
from observability.render.rules import rule_count  # noqa: E402
from observability.spec.problems import SpecError  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"  # documentation placeholder, not an account
TOPICS = alertmanager.Topics(
    page=f"arn:aws:sns:{REGION}:{ACCOUNT}:page",
    ticket=f"arn:aws:sns:{REGION}:{ACCOUNT}:ticket",
    watchdog=f"arn:aws:sns:{REGION}:{ACCOUNT}:watchdog",
)
WORKSPACE_URL = f"https://aps-workspaces.{REGION}.amazonaws.com/workspaces/ws-EXAMPLE/api/v1/remote_write"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(path)


def dump(document: object) -> str:
    return yaml.safe_dump(
        document, sort_keys=False, width=10**6, allow_unicode=True
    )  # one line per expression


def documents(services: Services) -> dict[str, str]:
    """Every plain artifact of `services`: its path under the output folder -> its text (`make bench`
    measures these)."""
    alerting = AlertingConfig()
    artifacts = render(services=services, runbook_base_url=alerting.runbook_base_url)
    texts = {
        f"rules/{namespace}.yaml": rules_yaml(document)
        for namespace, document in sorted(artifacts.rule_files.items())
    }
    for folder in artifacts.dashboards:
        for model in folder.dashboards:
            texts[f"dashboards/{model['uid']}.json"] = json.dumps(model, indent=2, sort_keys=True) + "\n"
    team_topics = {
        team: alertmanager.TeamTopics(
            page=f"arn:aws:sns:{REGION}:{ACCOUNT}:{team}-page",
            ticket=f"arn:aws:sns:{REGION}:{ACCOUNT}:{team}-ticket",
        )
        for team in artifacts.teams
    }
    topics = dataclasses.replace(TOPICS, teams=team_topics)
    definition = alertmanager.definition(alerting=alerting, region=REGION, topics=topics)
    texts["alertmanager.yaml"] = alertmanager.render(definition)
    agent = scrape_config.agent_config(
        cluster_name="example-cluster",
        environment="dev",
        region=REGION,
        remote_write_url=WORKSPACE_URL,
        jobs=artifacts.scrape_jobs,
    )
    texts["agent/prometheus.yaml"] = scrape_config.render(agent)
    # For each service in a namespace the platform does not own: the policy its team applies there.
    for service in services.services:
        if service.namespace not in PLATFORM_NAMESPACES:
            texts[f"services/{service.name}/network-policy.yaml"] = dump(agent_ingress_policy(service))
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("dist"))
    parser.add_argument("--services", type=Path, default=None, help="the services folder (default services/)")
    args = parser.parse_args()
    try:
        services = load(args.services.resolve()) if args.services else load()
        texts = documents(services)
    except SpecError as error:
        print(f"The service files break {len(error.problems)} rule(s):\n{error}", file=sys.stderr)
        return 1
    for relative, text in texts.items():
        write(args.out / relative, text)
    rules = sum(rule_count(yaml.safe_load(text)) for path, text in texts.items() if path.startswith("rules/"))
    quota = load_quotas().rules_per_workspace
    if rules > quota.value:
        print(
            f"warning: {rules:,} rules in all namespaces, over the {int(quota.value):,} rules per workspace "
            f"of observability/spec/amp-quotas.yaml: raise the AMP quota (L-3D15CDB4) before deploying",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
