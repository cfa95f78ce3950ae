"""``loket simulate SCENARIO.yaml [--compare OTHER.yaml] [--seed N] [--out DIR]``.

Runs one scenario (or two, with the same seed, side by side) and prints the comparison;
with ``--out`` also writes ``report.md``, ``results.json`` and SVG charts there. With
``--fit-from-db`` service times of steps with enough closed tasks in the read model are
resampled from their real durations (see :mod:`loket.simulation.fit`). A progress bar
per scenario goes to stderr on a terminal (``--progress``: also on a pipe, drawn once).
Exit 0; 1 when a scenario is invalid or the read model cannot be read; 2 on a usage error
(no such scenario file).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from loket.cli_common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, exits, fail, out, progress
from loket.route.loader import DefinitionErrors
from loket.settings import get_settings
from loket.simulation.distributions import Distribution
from loket.simulation.engine import ScenarioError, SimulationResult, simulate
from loket.simulation.files import load_scenario, scenario_timeline
from loket.simulation.fit import fit_service_times
from loket.simulation.report import charts, format_markdown, format_text, to_json

log = logging.getLogger(__name__)

EXIT_INVALID = EXIT_REFUSED

# Closed, running-clock steps (a clock-paused step measures the applicant, not the staff),
# newest first so that the fit follows today's pace.
DURATIONS_SQL = """
SELECT a.permit_type, t.step_id, t.used_working_s::float8
FROM tasks t JOIN applications a USING (registration_number)
WHERE t.state = 'done' AND t.clock = 'running' AND t.used_working_s IS NOT NULL
ORDER BY t.closed_at DESC
LIMIT 200000
"""


def register(app: typer.Typer) -> None:
    app.command(
        "simulate",
        help="Simulate a scenario file (definitions/scenarios/*.yaml): arrivals, staff per "
        "counter, service times, returns; report on-time share, lead times, queues, "
        "utilization and the bottleneck. Exit 0; 1 on an invalid scenario or an unreadable "
        "read model; 2 on a usage error. See docs/simulation.md.",
        short_help="what-if simulation of counters, staff and routes; two scenarios compared",
        rich_help_panel="Route authors",
    )(exits(_simulate))


async def _fetch_durations() -> list[tuple[str, str, float]]:
    from loket.store.cli import database

    async with database(get_settings()) as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(DURATIONS_SQL)
        finally:
            await conn.close()
    return [(r[0], r[1], float(r[2])) for r in rows]


def _simulate(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO.yaml")],
    compare: Annotated[
        Path | None, typer.Option(metavar="OTHER.yaml", help="a second scenario")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="write report.md, JSON, charts")
    ] = None,
    definitions: Annotated[
        Path | None, typer.Option(metavar="DIR", help="default: LOKET_DEFINITIONS_DIR")
    ] = None,
    fit_from_db: Annotated[
        bool,
        typer.Option(
            "--fit-from-db",
            help="service times from real step durations in the read model (DATABASE_URL)",
        ),
    ] = False,
    force_progress: Annotated[
        bool,
        typer.Option("--progress", help="progress bar on stderr even without a terminal"),
    ] = False,
) -> int:
    definitions_dir: Path = definitions or get_settings().definitions_dir
    paths = [scenario] + ([compare] if compare else [])
    for path in paths:
        if not path.is_file():
            return fail("simulate", f"no such scenario file: {path}", EXIT_USAGE)
    overrides: Mapping[tuple[str, str], Distribution] = {}
    if fit_from_db:
        try:
            overrides = fit_service_times(asyncio.run(_fetch_durations()))
        except (OSError, asyncpg.PostgresError) as exc:
            return fail("simulate", f"cannot read the read model: {exc}", EXIT_INVALID)
        log.info("service times fitted from the read model for %d steps", len(overrides))
    results: list[SimulationResult] = []
    for path in paths:
        try:
            loaded = load_scenario(path, definitions_dir, overrides)
            timeline = scenario_timeline(loaded.scenario, definitions_dir)
        except (DefinitionErrors, ScenarioError) as exc:
            return fail("simulate", exc, EXIT_INVALID)
        started = time.perf_counter()
        with progress(loaded.scenario.name, unit="days", force=force_progress) as advance:
            result = simulate(loaded.scenario, loaded.models, timeline, seed=seed, progress=advance)
        log.info("%s simulated in %.1f s", loaded.scenario.name, time.perf_counter() - started)
        results.append(result)
    out(format_text(results), nl=False)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = charts(results)
        for name, svg in files.items():
            (out_dir / name).write_text(svg, encoding="utf-8")
        (out_dir / "results.json").write_text(to_json(results), encoding="utf-8")
        (out_dir / "report.md").write_text(format_markdown(results, list(files)), encoding="utf-8")
        out(f"wrote {out_dir / 'report.md'}, results.json and {len(files)} charts")
    return EXIT_OK
