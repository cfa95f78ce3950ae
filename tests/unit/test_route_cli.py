"""``loket validate`` and ``loket schema`` as a route author and CI use them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from loket.cli import main
from loket.route.cli import build_schemas
from loket.route.loader import load_catalog, validate_paths
from loket.settings import PROJECT_ROOT, get_settings

DEFINITIONS = PROJECT_ROOT / "definitions"
SCHEMAS = PROJECT_ROOT / "schemas"
CORPUS = Path(__file__).parent / "broken_definitions"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- validate -----------------------------------------------------------------------------


def test_validate_defaults_to_the_settings_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    catalog = load_catalog(get_settings().definitions_dir)
    code, out, err = run(capsys, "validate")
    assert code == 0 and err == ""
    permits, agencies = len(catalog.permits), len(catalog.agencies.agencies)
    assert out.endswith(f"/: {permits} permit types, {agencies} agencies: valid\n")
    assert out.count("\n") == 1


def test_validate_the_real_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "definitions")
    assert (code, out, err) == (0, "definitions/: 3 permit types, 6 agencies: valid\n", "")
    code, out, _ = run(
        capsys, "validate", "definitions/permits/pbg.yaml", "definitions/agencies.yaml"
    )
    assert code == 0
    assert out == (
        "definitions/permits/pbg.yaml, definitions/agencies.yaml: 1 permit type, 6 agencies: valid\n"
    )


def test_validate_a_broken_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = "tests/unit/broken_definitions/unknown_counter.yaml"
    code, out, err = run(capsys, "validate", path)
    assert code == 1
    assert err == (
        f"{path}: steps[1].counter: agency 'dpupr' has no counter 'cashier' "
        "(its counters: pbg_secretariat, tpa, retribution)\n"
    )
    assert out == f"{path}: 1 error in 1 file: invalid\n"


def test_validate_the_whole_corpus_reports_every_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(CORPUS.glob("*.yaml"))
    expected = validate_paths(files, DEFINITIONS)
    code, out, err = run(capsys, "validate", *map(str, files))
    assert code == 1
    assert err.splitlines() == [str(e) for e in expected]
    assert all(line.startswith(f"{CORPUS}/") for line in err.splitlines())
    assert out.count("\n") == 1
    assert out.endswith(f": {len(expected)} errors in {len(files)} files: invalid\n")
    several = [line for line in err.splitlines() if "several_problems.yaml" in line]
    assert len(several) == 4  # all at once, not the first only


def test_one_broken_file_makes_the_run_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "validate", "definitions", str(CORPUS / "deadline_zero.yaml"))
    assert code == 1 and err.count("\n") == 1


def test_broken_catalog_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "permits").mkdir()
    (tmp_path / "agencies.yaml").write_text(
        (DEFINITIONS / "agencies.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "permits" / "x.yaml").write_text(
        (CORPUS / "unknown_key.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert err == (
        f"{tmp_path.name}/permits/x.yaml: steps[0].dedline: unknown key: not part of the "
        "definition format\n"
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no/such/place", "no such file or folder: no/such/place"),
        ("pyproject.toml", "not a YAML file: pyproject.toml"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], path: str, message: str) -> None:
    code, out, err = run(capsys, "validate", "definitions", path)
    assert (code, out) == (2, "")
    assert err == f"loket validate: {message}\n"


def test_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--frobnicate"]) == 2  # returned, not raised
    captured = capsys.readouterr()
    assert "No such option: --frobnicate" in captured.err and captured.out == ""


def test_exit_code_of_the_real_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loket.cli", "validate", str(CORPUS / "loop_without_exit.yaml")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("loop with no exit") == 3
    assert result.stdout.endswith(": 3 errors in 1 file: invalid\n")


# --- schema -------------------------------------------------------------------------------


def test_committed_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "schema", "--check")
    assert code == 0, err
    assert "current" in out


def test_schema_write_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schemas"
    assert run(capsys, "schema", "--output", str(target))[0] == 0
    assert sorted(p.name for p in target.iterdir()) == [
        "agencies.schema.json",
        "permit-type.schema.json",
    ]
    for path in target.iterdir():
        assert path.read_text(encoding="utf-8") == (SCHEMAS / path.name).read_text(encoding="utf-8")
    assert run(capsys, "schema", "--check", "--output", str(target))[0] == 0

    stale = target / "agencies.schema.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace("Counter", "Desk"), "utf-8")
    code, out, err = run(capsys, "schema", "--check", "--output", str(target))
    assert code == 1
    assert err == f"{stale}: differs from the models; run 'loket schema'\n"
    assert out == "1 of 2 schema files out of date\n"

    stale.unlink()
    assert run(capsys, "schema", "--check", "--output", str(target))[0] == 1


def _schema(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    return jsonschema.Draft202012Validator(schema)


def test_definitions_satisfy_the_schema() -> None:
    permit_schema = _schema("permit-type.schema.json")
    for path in sorted((DEFINITIONS / "permits").glob("*.yaml")):
        errors = list(permit_schema.iter_errors(yaml.safe_load(path.read_text("utf-8"))))
        assert errors == [], (path, [e.message for e in errors])
    agencies = yaml.safe_load((DEFINITIONS / "agencies.yaml").read_text("utf-8"))
    assert list(_schema("agencies.schema.json").iter_errors(agencies)) == []


def test_schema_flags_what_the_loader_refuses_and_takes_shorthand_durations() -> None:
    permit_schema = _schema("permit-type.schema.json")
    unknown_key = yaml.safe_load((CORPUS / "unknown_key.yaml").read_text("utf-8"))
    assert not permit_schema.is_valid(unknown_key)  # an editor underlines 'dedline'
    zero = yaml.safe_load((CORPUS / "deadline_zero.yaml").read_text("utf-8"))
    assert not permit_schema.is_valid(zero)
    shorthand = yaml.safe_load((CORPUS / "unknown_agency.yaml").read_text("utf-8"))
    assert shorthand["steps"][0]["deadline"] == "1d"
    assert permit_schema.is_valid(shorthand)  # agencies are checked by the validator only


def test_schemas_come_from_the_models() -> None:
    schemas = {name: json.loads(text) for name, text in build_schemas().items()}
    permit = schemas["permit-type.schema.json"]
    assert "TaskStep" in permit["$defs"] and "ParallelStep" in permit["$defs"]
    assert permit["properties"]["steps"]["items"]["oneOf"]


def test_every_definition_file_names_its_schema_on_line_one() -> None:
    expected = {
        DEFINITIONS / "agencies.yaml": "../schemas/agencies.schema.json",
        **{
            p: "../../schemas/permit-type.schema.json"
            for p in (DEFINITIONS / "permits").glob("*.yaml")
        },
    }
    for path, schema in expected.items():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={schema}", path
        assert (path.parent / schema).resolve().is_file()
