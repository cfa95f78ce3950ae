"""``loket validate`` and ``loket schema``: check route definitions, export their JSON Schema.

``validate`` reports every problem as ``file: path: message`` on stderr and a one-line
summary on stdout; it exits 0 (valid), 1 (invalid) or 2 (usage error, e.g. a missing path).

``schema`` writes the JSON Schema of a permit-type file and of ``agencies.yaml`` (from the
pydantic models) under ``schemas/``; ``--check`` compares the committed files instead, so CI
fails when a model changed and the schema was not regenerated. Definition files name their
schema in a first-line ``# yaml-language-server: $schema=...`` modeline for editors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from loket.cli_common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    err,
    exits,
    fail,
    out,
    progress,
    styled,
)
from loket.route.loader import (
    AGENCIES_FILE,
    DefinitionError,
    DefinitionErrors,
    load_agencies,
    load_catalog,
    validate_paths,
)
from loket.route.model import AgencyCatalog, PermitType
from loket.settings import PROJECT_ROOT, get_settings

EXIT_VALID = EXIT_OK
EXIT_INVALID = EXIT_REFUSED
PANEL = "Route authors"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = PROJECT_ROOT / "schemas"
YAML_SUFFIXES = (".yaml", ".yml")

# file name -> (model, title). The modeline in each definition file points at these names.
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "permit-type.schema.json": (PermitType, "Loket permit type (definitions/permits/*.yaml)"),
    "agencies.schema.json": (
        AgencyCatalog,
        "Loket agencies and counters (definitions/agencies.yaml)",
    ),
}

# WorkDuration also accepts the shorthand "3d" / "4h" (see loket.calendar); the model's own
# schema only shows the mapping form, so editors would flag valid shorthand.
_DURATION_SCHEMA: dict[str, Any] = {
    "title": "WorkDuration",
    "description": "Working days or working hours: '3d', '4h', {working_days: 3} or "
    "{working_hours: 4}. Must be positive.",
    "anyOf": [
        {"type": "string", "pattern": r"^\s*[0-9]+\s*[dDhH]\s*$"},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "working_days": {"type": "integer", "minimum": 1},
                "working_hours": {"type": "integer", "minimum": 1},
            },
        },
    ],
}


def register(app: typer.Typer) -> None:
    app.command(
        "validate",
        help="Check definitions folders (agencies.yaml + permits/*.yaml + complaints/*.yaml) or single permit "
        "files; every error as 'file: path: message' on stderr. Exit 0 valid, 1 invalid, "
        "2 usage error.",
        short_help="check route definitions; every error as 'file: path: message'",
        rich_help_panel=PANEL,
    )(exits(_validate))
    app.command(
        "schema",
        help="Write schemas/permit-type.schema.json and schemas/agencies.schema.json from "
        "the models; with --check, exit 1 if the files there are not current.",
        short_help="write (or --check) the JSON Schema of definition files",
        rich_help_panel=PANEL,
    )(exits(_schema))


# --- validate ----------------------------------------------------------------------------


def _validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            help="a definitions folder or a permit file (default: LOKET_DEFINITIONS_DIR)",
            show_default=False,
        ),
    ] = None,
) -> int:
    definitions_dir: Path = get_settings().definitions_dir
    paths = list(paths or []) or [definitions_dir]
    usage = _usage_problems(paths)
    if usage:
        for line in usage:
            fail("validate", line)
        return EXIT_USAGE
    errors: list[DefinitionError] = []
    with progress("validate", unit="paths", show=len(paths) > 1) as advance:
        for done, path in enumerate(paths, start=1):
            errors += validate_paths([path], definitions_dir)
            advance(done, len(paths))
    shown = ", ".join(_shown(p) for p in paths)
    if errors:
        for error in errors:
            err(str(error))
        files = len({e.file for e in errors})
        noun = "error" if len(errors) == 1 else "errors"
        where = "file" if files == 1 else "files"
        out(f"{shown}: {len(errors)} {noun} in {files} {where}: {styled('invalid', 'red')}")
        return EXIT_INVALID
    permits, agencies = _counts(paths, definitions_dir)
    out(
        f"{shown}: {permits} permit type{'s' if permits != 1 else ''}, "
        f"{agencies} agenc{'ies' if agencies != 1 else 'y'}: {styled('valid', 'green')}"
    )
    return EXIT_VALID


def _usage_problems(paths: Sequence[Path]) -> list[str]:
    problems = []
    for path in paths:
        if not path.exists():
            problems.append(f"no such file or folder: {path}")
        elif path.is_file() and path.suffix not in YAML_SUFFIXES:
            problems.append(f"not a YAML file: {path}")
    return problems


def _shown(path: Path) -> str:
    """``path`` as the user would type it: relative to the working folder when inside it."""
    try:
        text = str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        text = str(path)
    return f"{text}/" if path.is_dir() else text


def _counts(paths: Sequence[Path], definitions_dir: Path) -> tuple[int, int]:
    """Permit types and agencies in valid ``paths`` (agencies counted once per folder)."""
    permits = 0
    agencies: dict[Path, int] = {}
    for path in paths:
        if path.is_dir():
            try:
                catalog = load_catalog(path)
            except DefinitionErrors:  # pragma: no cover - validate_paths said valid
                continue
            permits += len(catalog.permits)
            agencies[path.resolve()] = len(catalog.agencies.agencies)
            continue
        if path.name != AGENCIES_FILE:
            permits += 1
        home = path.resolve().parent
        if path.name != AGENCIES_FILE:
            home = home.parent
        base = home if (home / AGENCIES_FILE).exists() else definitions_dir.resolve()
        found, _ = load_agencies(base)
        if found is not None:
            agencies[base] = len(found.agencies)
    return permits, sum(agencies.values())


# --- schema ------------------------------------------------------------------------------


def build_schemas() -> dict[str, str]:
    """File name -> JSON text of each schema, exactly as committed."""
    return {
        name: json.dumps(_schema_of(model, title), indent=2, ensure_ascii=False) + "\n"
        for name, (model, title) in SCHEMAS.items()
    }


def _schema_of(model: type[BaseModel], title: str) -> dict[str, Any]:
    body = model.model_json_schema()
    defs = body.get("$defs", {})
    if "WorkDuration" in defs:
        defs["WorkDuration"] = _DURATION_SCHEMA
    return {"$schema": JSON_SCHEMA_DIALECT, **body, "title": title}


def _schema(
    check: Annotated[
        bool, typer.Option("--check", help="compare instead of writing; exit 1 if stale")
    ] = False,
    output: Annotated[
        Path,
        typer.Option(metavar="PATH", help="folder for the schema files", show_default=True),
    ] = SCHEMA_DIR,
) -> int:
    expected = build_schemas()
    if check:
        stale = []
        for name, text in expected.items():
            path = output / name
            try:
                current = path.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current != text:
                stale.append(path)
        for path in stale:
            err(f"{path}: differs from the models; run 'loket schema'")
        if stale:
            out(f"{len(stale)} of {len(expected)} schema files out of date")
            return EXIT_INVALID
        out(f"{len(expected)} schema files in {output} are current")
        return EXIT_VALID
    if output.exists() and not output.is_dir():
        return fail("schema", f"not a folder: {output}", EXIT_USAGE)
    output.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        (output / name).write_text(text, encoding="utf-8")
        out(f"wrote {output / name}")
    return EXIT_VALID
