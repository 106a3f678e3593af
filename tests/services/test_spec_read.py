"""Reading a spec file (observability.spec): a missing, unreadable or broken file is one problem for the
whole file (empty field path), naming where YAML broke (1-based line and column); the services folders skip
templates (`_…`) and hidden folders. Files in a temporary folder; expected values are literals."""

from __future__ import annotations

from pathlib import Path

from observability import spec
from observability.spec.problems import Problem


def test_a_missing_file_is_a_problem_of_the_whole_file(tmp_path: Path):
    path = tmp_path / "service.yaml"
    assert spec.read(path) == Problem(str(path), "", "file is missing")


def test_a_file_that_cannot_be_read_says_why(tmp_path: Path):
    path = tmp_path / "slos.yaml"
    path.mkdir()
    assert spec.read(path) == Problem(str(path), "", "cannot be read (Is a directory)")


def test_broken_yaml_names_the_line_and_column_where_it_broke(tmp_path: Path):
    path = tmp_path / "service.yaml"
    path.write_text("a: [1, 2\nb: 3\n")
    assert spec.read(path) == Problem(
        str(path), "", "is not valid YAML at line 2, column 2: expected ',' or ']', but got ':'"
    )


def test_a_character_yaml_refuses_is_reported_without_a_position_it_does_not_give(tmp_path: Path):
    path = tmp_path / "service.yaml"
    path.write_text("a: 1\nb: \x07\n")
    assert spec.read(path) == Problem(
        str(path),
        "",
        "is not valid YAML: unacceptable character #x0007: special characters are not allowed\n"
        '  in "<unicode string>", position 8',
    )


def test_a_file_in_utf_8_is_read_as_such(tmp_path: Path):
    path = tmp_path / "teams.yaml"
    path.write_bytes("description: Zürich café\n".encode())
    assert spec.read(path) == {"description": "Zürich café"}


def test_service_folders_are_sorted_and_skip_templates_hidden_folders_and_files(tmp_path: Path):
    for name in ("orders", "_template", ".git", "billing"):
        (tmp_path / name).mkdir()
    (tmp_path / "teams.yaml").write_text("")
    assert spec.service_dirs(tmp_path) == [tmp_path / "billing", tmp_path / "orders"]
