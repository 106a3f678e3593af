"""The delivery pipeline's configuration: where the source comes from and which environments it deploys.

Read from a YAML file (`config/pipeline.example.yaml` shows every field) by `load_pipeline_config`, which
refuses a bad file with one ConfigError listing every problem as `field: must ... (got ...)`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from config.environments import ENVIRONMENTS, environment_config
from config.platform import _ACCOUNT, _REGION, ConfigError, PlatformConfig

# CodeConnections ARNs; connections created before the 2024 rename keep the `codestar-connections` prefix
# and stay usable (AWS Developer Tools console guide, "Renaming connections"), so both are accepted.
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:"
    r"connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
# A git branch name without the characters and sequences git refuses in refs.
_BRANCH = re.compile(r"^(?![-/.])(?!.*(\.\.|//|@\{|\.lock$|/$|\.$))[A-Za-z0-9._/@+-]{1,255}$")


class PipelineConfigError(ConfigError):
    """A pipeline configuration file breaks one or more rules; the message names the file and each field."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(path, problems)
        listing = "\n".join(f"  - {problem}" for problem in problems)
        self.args = (f"invalid pipeline configuration {path!r}:\n{listing}",)


@dataclass(frozen=True)
class _Rule:
    check: Callable[[Any], bool]
    must: str


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None


# YAML reads an unquoted 12-digit number as an int (and one with a leading 0 and no 8/9 as octal).
_ACCOUNT_RULE = _Rule(_matches(_ACCOUNT), "must be a 12-digit AWS account id in quotes")
_TOP_RULES: dict[str, _Rule] = {
    "connection_arn": _Rule(
        _matches(_CONNECTION_ARN),
        "must be a connection ARN 'arn:aws:codeconnections:<region>:<12 digits>:connection/<uuid>' "
        "(or the older 'codestar-connections' form)",
    ),
    "repository": _Rule(_matches(_REPOSITORY), "must be 'owner/name' of the connected repository"),
    "branch": _Rule(_matches(_BRANCH), "must be a git branch name like 'main'"),
    "account": _ACCOUNT_RULE,
    "region": _Rule(_matches(_REGION), "must be an AWS region code like 'eu-west-1'"),
}
_STAGE_RULES: dict[str, _Rule] = {
    "environment": _Rule(
        lambda v: isinstance(v, str) and v in ENVIRONMENTS, f"must be one of {sorted(ENVIRONMENTS)}"
    ),
    "account": _ACCOUNT_RULE,
    "approval": _Rule(lambda v: isinstance(v, bool), "must be true or false"),
}
STAGES = "stages"


def _problems(values: Mapping[str, Any], rules: Mapping[str, _Rule], where: str = "") -> list[str]:
    """`field: must ... (got ...)` for each present value that breaks its rule."""
    return [
        f"{where}{name}: {rule.must} (got {values[name]!r})"
        for name, rule in rules.items()
        if name in values and not rule.check(values[name])
    ]


def _stage_list_problems(environments: list[Any]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, environment in enumerate(environments):
        if isinstance(environment, str) and environment in seen:
            problems.append(f"stages[{index}].environment: must appear once (got {environment!r} again)")
        seen.add(str(environment))
    return problems


@dataclass(frozen=True, kw_only=True)
class PipelineStageTarget:
    """One environment the pipeline deploys, into `account`; its region is the environment's own."""

    environment: str
    account: str
    approval: bool  # a manual approval before this stage deploys (prod)

    def problems(self, where: str) -> list[str]:
        return _problems(dataclasses.asdict(self), _STAGE_RULES, where)

    def platform_config(self) -> PlatformConfig:
        """The environment's configuration, deployed into this target's account."""
        return dataclasses.replace(environment_config(self.environment), account=self.account)


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """The toolchain: source repository and branch, the pipeline's own account and region, its stages."""

    connection_arn: str
    repository: str
    branch: str
    account: str
    region: str
    stages: tuple[PipelineStageTarget, ...]

    def __post_init__(self) -> None:
        values = {name: getattr(self, name) for name in _TOP_RULES}
        problems = _problems(values, _TOP_RULES)
        if not self.stages:
            problems.append("stages: must list at least one environment (got [])")
        for index, stage in enumerate(self.stages):
            problems.extend(stage.problems(f"stages[{index}]."))
        problems.extend(_stage_list_problems([stage.environment for stage in self.stages]))
        if problems:
            raise PipelineConfigError(f"{self.repository}@{self.branch}", problems)

    @property
    def connection_service(self) -> str:
        """The IAM service prefix of the connection (`codeconnections` or `codestar-connections`)."""
        return self.connection_arn.split(":")[2]


def _key_problems(values: Mapping[str, Any], rules: Mapping[str, _Rule], where: str = "") -> list[str]:
    problems = [f"{where}{name}: must be set (got nothing)" for name in rules if name not in values]
    problems.extend(
        f"{where}{key}: must be one of the known keys {list(rules)} (got an unknown key)"
        for key in values
        if key not in rules
    )
    return problems


def load_pipeline_config(path: str | Path) -> PipelineConfig:
    """The pipeline configuration in the YAML file `path`, or one PipelineConfigError naming every problem."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise PipelineConfigError(
            str(path), [f"file: must be a readable file (got {error.strerror})"]
        ) from None
    except yaml.YAMLError as error:
        raise PipelineConfigError(str(path), [f"file: must be valid YAML (got {error})"]) from None
    if not isinstance(document, dict):
        raise PipelineConfigError(str(path), [f"file: must be a YAML mapping (got {document!r})"])

    top_rules = {**_TOP_RULES, STAGES: _Rule(lambda _: True, "")}
    problems = _key_problems(document, top_rules) + _problems(document, _TOP_RULES)
    raw_stages = document.get(STAGES, [])
    if not isinstance(raw_stages, list) or not raw_stages:
        problems.append(f"stages: must list at least one environment (got {raw_stages!r})")
        raw_stages = []
    for index, stage in enumerate(raw_stages):
        where = f"stages[{index}]."
        if not isinstance(stage, dict):
            problems.append(f"stages[{index}]: must be a mapping of {list(_STAGE_RULES)} (got {stage!r})")
            continue
        problems.extend(_key_problems(stage, _STAGE_RULES, where) + _problems(stage, _STAGE_RULES, where))
    problems.extend(
        _stage_list_problems(
            [stage.get("environment") if isinstance(stage, dict) else None for stage in raw_stages]
        )
    )
    if problems:
        raise PipelineConfigError(str(path), problems)
    return PipelineConfig(
        **{name: document[name] for name in _TOP_RULES},
        stages=tuple(PipelineStageTarget(**stage) for stage in raw_stages),
    )
