"""Loads definitions from YAML and reports every problem with file, path and reason.

Layout: ``<dir>/agencies.yaml``, one permit type per ``<dir>/permits/*.yaml`` and one
complaint route per ``<dir>/complaints/*.yaml`` (same format). Nothing goes live unless the
whole catalog is valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from loket.route.model import AgencyCatalog, PermitType
from loket.route.validate import check_permit

M = TypeVar("M", bound=BaseModel)

AGENCIES_FILE = "agencies.yaml"
PERMITS_DIR = "permits"
COMPLAINTS_DIR = "complaints"  # complaint handling routes, run like permit types (issue 12b)


@dataclass(frozen=True, order=True)
class DefinitionError:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.path}: {self.message}"
            if self.path
            else f"{self.file}: {self.message}"
        )


class DefinitionErrors(ValueError):
    def __init__(self, errors: Sequence[DefinitionError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class Catalog:
    agencies: AgencyCatalog
    permits: dict[str, PermitType] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    complaints: dict[str, PermitType] = field(default_factory=dict)

    def permit(self, permit_id: str) -> PermitType:
        return self.permits[permit_id]


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of duplicate keys silently; a definition must not."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def format_loc(loc: Iterable[int | str]) -> str:
    out = ""
    parts = list(loc)
    for i, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("task", "parallel") and i > 0 and isinstance(parts[i - 1], int):
            continue  # the tag of the step-kind union: not part of the file
        elif part == "[key]":
            out += " (key)"
        else:
            out += f".{part}" if out else part
    return out


_MESSAGES = {
    "extra_forbidden": "unknown key: not part of the definition format",
    "missing": "required key is missing",
}


def _pydantic_errors(file: str, exc: ValidationError) -> list[DefinitionError]:
    errors = []
    for err in exc.errors(include_url=False):
        message = _MESSAGES.get(err["type"], err["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        errors.append(DefinitionError(file, format_loc(err["loc"]), message))
    return errors


def read_yaml(path: Path, display: str) -> tuple[Any, list[DefinitionError]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [DefinitionError(display, "", f"cannot read: {exc.strerror}")]
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [DefinitionError(display, where, f"not valid YAML: {problem}")]


def parse_model(model: type[M], path: Path, display: str) -> tuple[M | None, list[DefinitionError]]:
    data, errors = read_yaml(path, display)
    if errors:
        return None, errors
    if not isinstance(data, dict):
        return None, [DefinitionError(display, "", "expected a mapping at the top level")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _pydantic_errors(display, exc)


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve().parent))
    except ValueError:
        return str(path)


def load_agencies(definitions_dir: Path) -> tuple[AgencyCatalog | None, list[DefinitionError]]:
    path = definitions_dir / AGENCIES_FILE
    agencies, errors = parse_model(AgencyCatalog, path, _display(path, definitions_dir))
    if agencies is not None:
        errors += _agency_duplicates(agencies, _display(path, definitions_dir))
    return (agencies if not errors else None), errors


def _agency_duplicates(catalog: AgencyCatalog, display: str) -> list[DefinitionError]:
    errors: list[DefinitionError] = []
    seen: set[str] = set()
    for i, agency in enumerate(catalog.agencies):
        if agency.id in seen:
            errors.append(
                DefinitionError(display, f"agencies[{i}].id", f"duplicate agency '{agency.id}'")
            )
        seen.add(agency.id)
        counters: set[str] = set()
        for j, counter in enumerate(agency.counters):
            if counter.id in counters:
                errors.append(
                    DefinitionError(
                        display,
                        f"agencies[{i}].counters[{j}].id",
                        f"duplicate counter '{counter.id}'",
                    )
                )
            counters.add(counter.id)
    return errors


def load_permit(
    path: Path, agencies: AgencyCatalog, display: str | None = None
) -> tuple[PermitType | None, list[DefinitionError]]:
    shown = display or str(path)
    permit, errors = parse_model(PermitType, path, shown)
    if permit is None:
        return None, errors
    problems = [DefinitionError(shown, p, m) for p, m in check_permit(permit, agencies)]
    return (permit if not problems else None), problems


def load_catalog(definitions_dir: Path) -> Catalog:
    """The whole catalog, or :class:`DefinitionErrors` listing every problem in it."""
    agencies, errors = load_agencies(definitions_dir)
    if agencies is None:
        raise DefinitionErrors(errors)
    permits: dict[str, PermitType] = {}
    files: dict[str, Path] = {}
    for path in sorted((definitions_dir / PERMITS_DIR).glob("*.yaml")):
        display = _display(path, definitions_dir)
        permit, permit_errors = load_permit(path, agencies, display)
        errors += permit_errors
        if permit is None:
            continue
        if permit.id in permits:
            errors.append(
                DefinitionError(
                    display,
                    "id",
                    f"permit type '{permit.id}' is defined in {files[permit.id].name} too",
                )
            )
            continue
        permits[permit.id] = permit
        files[permit.id] = path
    complaints, complaint_errors = _load_complaint_routes(definitions_dir, agencies, permits)
    errors += complaint_errors
    if errors:
        raise DefinitionErrors(sorted(errors))
    return Catalog(agencies, permits, files, complaints)


def _load_complaint_routes(
    definitions_dir: Path, agencies: AgencyCatalog, permits: dict[str, PermitType]
) -> tuple[dict[str, PermitType], list[DefinitionError]]:
    """Complaint routes: validated exactly like permit types, kept apart from the public
    catalog of permits; their ids make tracking numbers, so they may not reuse a permit's."""
    routes: dict[str, PermitType] = {}
    errors: list[DefinitionError] = []
    for path in sorted((definitions_dir / COMPLAINTS_DIR).glob("*.yaml")):
        display = _display(path, definitions_dir)
        route, route_errors = load_permit(path, agencies, display)
        errors += route_errors
        if route is None:
            continue
        if route.id in permits or route.id in routes:
            errors.append(DefinitionError(display, "id", f"id '{route.id}' is used already"))
            continue
        routes[route.id] = route
    return routes, errors


def validate_paths(paths: Sequence[Path], definitions_dir: Path) -> list[DefinitionError]:
    """Errors of the given folders or permit files (files are checked against the agencies
    of ``definitions_dir``, or of the definitions folder they live in)."""
    errors: list[DefinitionError] = []
    for path in paths:
        if path.is_dir():
            try:
                load_catalog(path)
            except DefinitionErrors as exc:
                errors += exc.errors
            continue
        # A permit file lives in <defs>/permits/; agencies.yaml in <defs>/ itself.
        home = path.resolve().parent if path.name == AGENCIES_FILE else path.resolve().parent.parent
        base = home if (home / AGENCIES_FILE).exists() else definitions_dir
        agencies, agency_errors = load_agencies(base)
        if agencies is None:
            errors += agency_errors
            continue
        if path.name == AGENCIES_FILE:
            continue
        errors += load_permit(path, agencies, str(path))[1]
    return errors
