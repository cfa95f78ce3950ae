"""``loket analyze PERMIT [--compare OTHER] [--svg OUT]``: a route's visits, hand-offs,
critical path and improvement candidates; optionally beside another version; its diagram.

PERMIT and OTHER are a permit type id of the definitions catalog (``PBG``) or a permit
file (``definitions/drafts/pbg-simplified.yaml``), checked against the catalog's agencies.
Exit 0, or 1 with ``--strict`` when a path exceeds its published service time, 2 on a
usage or definition error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loket.analysis.diagram import render_svg
from loket.analysis.report import analyze, compare
from loket.analysis.text import format_analysis, format_comparison
from loket.route.loader import DefinitionErrors, load_agencies, load_catalog, load_permit
from loket.route.model import AgencyCatalog, PermitType
from loket.settings import get_settings

EXIT_OK = 0
EXIT_FLAGGED = 1
EXIT_USAGE = 2


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "analyze",
        help="route analysis: visits, hand-offs, critical path, merge/parallel candidates",
        description="Analyse a permit type's route: counters the applicant visits, "
        "hand-offs per path, critical path against the published service time, steps that "
        "could merge or run in parallel. See docs/analysis.md.",
    )
    parser.add_argument("permit", metavar="PERMIT", help="permit type id or permit YAML file")
    parser.add_argument(
        "--compare", metavar="OTHER", help="a second version (id or file) to compare with"
    )
    parser.add_argument(
        "--svg",
        type=Path,
        metavar="OUT",
        help="write the route diagram here (with --compare also OUT's stem + '.compare.svg')",
    )
    parser.add_argument(
        "--definitions",
        type=Path,
        metavar="DIR",
        help="definitions folder (default: LOKET_DEFINITIONS_DIR)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a path exceeds its service time"
    )
    parser.set_defaults(func=_analyze)


class _UsageError(Exception):
    pass


def resolve_permit(spec: str, definitions_dir: Path, agencies: AgencyCatalog) -> PermitType:
    """A permit by catalog id, or a permit file validated against ``agencies``."""
    path = Path(spec)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise _UsageError(f"no such permit file: {spec}")
        permit, errors = load_permit(path, agencies, str(path))
        if permit is None:
            raise _UsageError("\n".join(str(e) for e in errors))
        return permit
    catalog = load_catalog(definitions_dir)
    if spec not in catalog.permits:
        known = ", ".join(sorted(catalog.permits))
        raise _UsageError(f"unknown permit type '{spec}' (known: {known}); or give a file")
    return catalog.permit(spec)


def _analyze(args: argparse.Namespace) -> int:
    definitions_dir: Path = args.definitions or get_settings().definitions_dir
    try:
        agencies, errors = load_agencies(definitions_dir)
        if agencies is None:
            raise _UsageError("\n".join(str(e) for e in errors))
        permit = resolve_permit(args.permit, definitions_dir, agencies)
        other = resolve_permit(args.compare, definitions_dir, agencies) if args.compare else None
    except (_UsageError, DefinitionErrors) as exc:
        sys.stderr.write(f"loket analyze: {exc}\n")
        return EXIT_USAGE

    analysis = analyze(permit, agencies)
    sys.stdout.write(format_analysis(analysis))
    flagged = bool(analysis.flagged)
    if other is not None:
        other_analysis = analyze(other, agencies)
        sys.stdout.write("\n" + format_analysis(other_analysis))
        sys.stdout.write("\n" + format_comparison(compare(permit, other, agencies)))
        flagged = flagged or bool(other_analysis.flagged)
    if args.svg is not None:
        out: Path = args.svg
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_svg(permit, agencies), encoding="utf-8")
        sys.stdout.write(f"wrote {out}\n")
        if other is not None:
            second = out.with_name(f"{out.stem}.compare.svg")
            second.write_text(render_svg(other, agencies), encoding="utf-8")
            sys.stdout.write(f"wrote {second}\n")
    return EXIT_FLAGGED if flagged and args.strict else EXIT_OK
