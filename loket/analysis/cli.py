"""``loket analyze PERMIT [--compare OTHER] [--svg OUT]``: a route's visits, hand-offs,
critical path and improvement candidates; optionally beside another version; its diagram.

PERMIT and OTHER are a permit type id of the definitions catalog (``PBG``) or a permit
file (``definitions/drafts/pbg-simplified.yaml``), checked against the catalog's agencies.
Exit 0; 1 with ``--strict`` when a path exceeds its published service time, or when a
definition is invalid; 2 on a usage error (unknown permit type, no such file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loket.analysis.diagram import render_svg
from loket.analysis.report import analyze, compare
from loket.analysis.text import format_analysis, format_comparison
from loket.cli_common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, exits, fail, out, progress
from loket.route.loader import DefinitionErrors, load_agencies, load_catalog, load_permit
from loket.route.model import AgencyCatalog, PermitType
from loket.settings import get_settings

EXIT_FLAGGED = EXIT_REFUSED
EXIT_INVALID = EXIT_REFUSED


def register(app: typer.Typer) -> None:
    app.command(
        "analyze",
        help="Analyse a permit type's route: counters the applicant visits, hand-offs per "
        "path, critical path against the published service time, steps that could merge or "
        "run in parallel. Exit 0; 1 with --strict when a path exceeds its service time, or "
        "when a definition is invalid; 2 on a usage error. See docs/analysis.md.",
        short_help="route analysis: visits, hand-offs, critical path, merge/parallel candidates",
        rich_help_panel="Route authors",
    )(exits(_analyze))


class _UsageError(Exception):
    pass


class _InvalidDefinition(Exception):
    pass


def resolve_permit(spec: str, definitions_dir: Path, agencies: AgencyCatalog) -> PermitType:
    """A permit by catalog id, or a permit file validated against ``agencies``."""
    path = Path(spec)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise _UsageError(f"no such permit file: {spec}")
        permit, errors = load_permit(path, agencies, str(path))
        if permit is None:
            raise _InvalidDefinition("\n".join(str(e) for e in errors))
        return permit
    catalog = load_catalog(definitions_dir)
    if spec not in catalog.permits:
        known = ", ".join(sorted(catalog.permits))
        raise _UsageError(f"unknown permit type '{spec}' (known: {known}); or give a file")
    return catalog.permit(spec)


def _analyze(
    permit_spec: Annotated[
        str, typer.Argument(metavar="PERMIT", help="permit type id or permit YAML file")
    ],
    compare_spec: Annotated[
        str | None,
        typer.Option(
            "--compare", metavar="OTHER", help="a second version (id or file) to compare with"
        ),
    ] = None,
    svg: Annotated[
        Path | None,
        typer.Option(
            metavar="OUT",
            help="write the route diagram here (with --compare also OUT's stem + '.compare.svg')",
        ),
    ] = None,
    definitions: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="definitions folder (default: LOKET_DEFINITIONS_DIR)"),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="exit 1 when a path exceeds its service time")
    ] = False,
) -> int:
    definitions_dir: Path = definitions or get_settings().definitions_dir
    try:
        agencies, errors = load_agencies(definitions_dir)
        if agencies is None:
            raise _InvalidDefinition("\n".join(str(e) for e in errors))
        specs = [permit_spec] + ([compare_spec] if compare_spec else [])
        permits = [resolve_permit(spec, definitions_dir, agencies) for spec in specs]
    except _UsageError as exc:
        return fail("analyze", exc, EXIT_USAGE)
    except (_InvalidDefinition, DefinitionErrors) as exc:
        return fail("analyze", exc, EXIT_INVALID)

    with progress("analyze", unit="routes", show=len(permits) > 1) as advance:
        analyses = []
        for done, permit in enumerate(permits, start=1):
            analyses.append(analyze(permit, agencies))
            advance(done, len(permits))
    out(format_analysis(analyses[0]), nl=False)
    if len(permits) > 1:
        out("\n" + format_analysis(analyses[1]), nl=False)
        out("\n" + format_comparison(compare(permits[0], permits[1], agencies)), nl=False)
    if svg is not None:
        svg.parent.mkdir(parents=True, exist_ok=True)
        svg.write_text(render_svg(permits[0], agencies), encoding="utf-8")
        out(f"wrote {svg}")
        if len(permits) > 1:
            second = svg.with_name(f"{svg.stem}.compare.svg")
            second.write_text(render_svg(permits[1], agencies), encoding="utf-8")
            out(f"wrote {second}")
    flagged = any(a.flagged for a in analyses)
    return EXIT_FLAGGED if flagged and strict else EXIT_OK
