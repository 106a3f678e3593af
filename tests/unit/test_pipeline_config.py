"""The pipeline configuration file: the example loads; each broken rule is refused with one ConfigError that
names the field and the rule, and several broken rules are all listed in that one error."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError
from config.pipeline import PipelineConfig, PipelineStageTarget, load_pipeline_config
from tests.unit.conftest import REPOSITORY

EXAMPLE = REPOSITORY / "config" / "pipeline.example.yaml"
CONNECTION = "arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text())


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def problems_of(tmp_path: Path, document: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_pipeline_config(write(tmp_path, document))
    assert str(caught.value).startswith(
        f"invalid pipeline configuration {str(tmp_path / 'pipeline.yaml')!r}:"
    )
    return caught.value.problems


def test_the_example_loads_with_placeholder_values():
    config = load_pipeline_config(EXAMPLE)
    assert config.connection_arn.startswith("arn:aws:codeconnections:")
    assert config.account == "111111111111"
    assert [(s.environment, s.approval) for s in config.stages] == [("dev", False), ("prod", True)]
    prod = config.stages[1].platform_config()
    assert (prod.name, prod.account) == ("prod", "333333333333")


def test_connections_from_before_the_rename_are_accepted(tmp_path):
    document = example()
    document["connection_arn"] = CONNECTION.replace("codeconnections", "codestar-connections")
    config = load_pipeline_config(write(tmp_path, document))
    assert config.connection_service == "codestar-connections"
    assert load_pipeline_config(EXAMPLE).connection_service == "codeconnections"


BAD_FIELDS = [
    (
        "connection_arn",
        "arn:aws:codeconnections:us-east-1:111111111111:connection/not-a-uuid",
        "connection ARN",
    ),
    ("connection_arn", "arn:aws:codecommit:us-east-1:111111111111:repo", "connection ARN"),
    ("connection_arn", CONNECTION.replace("111111111111", "1111"), "connection ARN"),
    ("repository", "just-a-name", "'owner/name'"),
    ("repository", "owner/name/extra", "'owner/name'"),
    ("branch", "feature..x", "git branch name"),
    ("branch", "", "git branch name"),
    ("account", "11111111111", "12-digit AWS account id"),
    ("account", 111111111111, "12-digit AWS account id in quotes"),
    ("region", "us-east", "AWS region code"),
]


@pytest.mark.parametrize(("field", "value", "rule"), BAD_FIELDS)
def test_a_bad_field_is_refused_naming_field_and_rule(tmp_path, field, value, rule):
    document = example()
    document[field] = value
    (problem,) = problems_of(tmp_path, document)
    assert problem.startswith(f"{field}: must ")
    assert rule in problem
    assert problem.endswith(f"(got {value!r})")


BAD_STAGES = [
    ("environment", "staging", "must be one of ['dev', 'prod']"),
    ("account", "33333333333a", "must be a 12-digit AWS account id"),
    ("approval", "yes", "must be true or false"),
]


@pytest.mark.parametrize(("field", "value", "rule"), BAD_STAGES)
def test_a_bad_stage_field_is_refused_naming_the_stage(tmp_path, field, value, rule):
    document = example()
    document["stages"][1][field] = value
    (problem,) = problems_of(tmp_path, document)
    assert problem.startswith(f"stages[1].{field}: {rule}")
    assert problem.endswith(f"(got {value!r})")


@pytest.mark.parametrize("field", ["connection_arn", "repository", "branch", "account", "region", "stages"])
def test_a_missing_key_is_refused(tmp_path, field):
    document = example()
    del document[field]
    problems = problems_of(tmp_path, document)
    assert problems[0].startswith(f"{field}: must ")


def test_a_missing_stage_key_and_an_unknown_key_are_refused(tmp_path):
    document = example()
    del document["stages"][0]["account"]
    document["stages"][0]["region"] = "eu-west-1"  # regions come from the environment, not from here
    document["colour"] = "blue"
    problems = problems_of(tmp_path, document)
    assert "stages[0].account: must be set (got nothing)" in problems
    assert any(p.startswith("stages[0].region: must be one of the known keys") for p in problems)
    assert any(p.startswith("colour: must be one of the known keys") for p in problems)


def test_a_duplicate_stage_is_refused(tmp_path):
    document = example()
    document["stages"].append(copy.deepcopy(document["stages"][0]))
    assert problems_of(tmp_path, document) == ["stages[2].environment: must appear once (got 'dev' again)"]


@pytest.mark.parametrize("stages", [[], "dev", None])
def test_stages_must_list_at_least_one_environment(tmp_path, stages):
    document = example()
    document["stages"] = stages
    (problem,) = problems_of(tmp_path, document)
    assert problem.startswith("stages: must list at least one environment")


def test_several_bad_fields_are_all_listed_in_one_error(tmp_path):
    document = example()
    document["connection_arn"] = "arn:aws:codeconnections:us-east-1:1:connection/x"
    document["repository"] = "no-owner"
    document["account"] = "123"
    del document["branch"]
    document["stages"][0]["environment"] = "qa"
    document["stages"][1] = 3
    problems = problems_of(tmp_path, document)
    fields = [re.split(r": ", problem, maxsplit=1)[0] for problem in problems]
    assert fields == [
        "branch",
        "connection_arn",
        "repository",
        "account",
        "stages[0].environment",
        "stages[1]",
    ]


@pytest.mark.parametrize(
    ("text", "rule"), [("- a list\n", "must be a YAML mapping"), ("a: [\n", "valid YAML")]
)
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, text, rule):
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(rule)):
        load_pipeline_config(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="file: must be a readable file"):
        load_pipeline_config(tmp_path / "absent.yaml")


def built_in_code(*, stages: tuple[PipelineStageTarget, ...]) -> PipelineConfig:
    """The pipeline of org/repo@main built in code, not loaded from a file."""
    return PipelineConfig(
        connection_arn=CONNECTION,
        repository="org/repo",
        branch="main",
        account="111111111111",
        region="us-east-1",
        stages=stages,
    )


def test_the_dataclass_validates_on_construction_too():
    """Built in code rather than loaded, a bad value still fails before any construct exists."""
    with pytest.raises(ConfigError, match=r"stages\[0\]\.account: must be a 12-digit"):
        built_in_code(stages=(PipelineStageTarget(environment="dev", account="2", approval=False),))


def test_a_file_error_names_the_file_and_lists_one_problem_a_line(tmp_path):
    absent = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        load_pipeline_config(absent)
    assert str(caught.value) == (
        f"invalid pipeline configuration {str(absent)!r}:\n"
        "  - file: must be a readable file (got No such file or directory)"
    )
    for text, problem in [
        ("- a list\n", "file: must be a YAML mapping (got ['a list'])"),
        ("a: [\n", "file: must be valid YAML (got "),
    ]:
        path = tmp_path / "pipeline.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_pipeline_config(path)
        assert str(caught.value).startswith(f"invalid pipeline configuration {str(path)!r}:\n  - {problem}")


def test_without_stages_the_file_says_so_twice_and_a_stage_that_is_no_mapping_stops_nothing(tmp_path):
    document = example()
    del document["stages"]
    assert problems_of(tmp_path, document) == [
        "stages: must be set (got nothing)",
        "stages: must list at least one environment (got [])",
    ]
    document["stages"] = ["dev", {"environment": "qa", "account": "111111111111", "approval": False}]
    assert problems_of(tmp_path, document) == [
        "stages[0]: must be a mapping of ['environment', 'account', 'approval'] (got 'dev')",
        "stages[1].environment: must be one of ['dev', 'prod'] (got 'qa')",
    ]


def test_a_pipeline_built_in_code_is_named_by_repository_and_branch():
    with pytest.raises(ConfigError) as caught:
        built_in_code(stages=())
    assert str(caught.value) == (
        "invalid pipeline configuration 'org/repo@main':\n"
        "  - stages: must list at least one environment (got [])"
    )


def test_several_problems_are_listed_one_a_line_under_the_file(tmp_path):
    document = example()
    document["account"] = "123"
    document["region"] = "nowhere"
    with pytest.raises(ConfigError) as caught:
        load_pipeline_config(write(tmp_path, document))
    assert str(caught.value) == (
        f"invalid pipeline configuration {str(tmp_path / 'pipeline.yaml')!r}:\n"
        "  - account: must be a 12-digit AWS account id in quotes (got '123')\n"
        "  - region: must be an AWS region code like 'eu-west-1' (got 'nowhere')"
    )
