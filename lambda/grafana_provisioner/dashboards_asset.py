"""The dashboards asset both functions read: `{"folders": [{"uid", "title", "dashboards": [JSON models]}]}`
(written at synth by stacks/constructs/grafana_provisioning.py)."""

from __future__ import annotations

import json
from typing import Any


def read_folders(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    """The asset's folders, each with its title and its dashboards' JSON models."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return list(json.loads(body)["folders"])
