"""``loket simulate SCENARIO.yaml [--compare OTHER.yaml] [--seed N] [--out DIR]``.

Runs one scenario (or two, with the same seed, side by side) and prints the comparison;
with ``--out`` also writes ``report.md``, ``results.json`` and SVG charts there. With
``--fit-from-db`` service times of steps with enough closed tasks in the read model are
resampled from their real durations (see :mod:`loket.simulation.fit`). Exit 0, or 2 on a
usage or scenario error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import asyncpg

from loket.route.loader import DefinitionErrors
from loket.settings import get_settings
from loket.simulation.distributions import Distribution
from loket.simulation.engine import ScenarioError, SimulationResult, simulate
from loket.simulation.files import load_scenario, scenario_timeline
from loket.simulation.fit import fit_service_times
from loket.simulation.report import charts, format_markdown, format_text, to_json

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2

# Closed, running-clock steps (a clock-paused step measures the applicant, not the staff),
# newest first so that the fit follows today's pace.
DURATIONS_SQL = """
SELECT a.permit_type, t.step_id, t.used_working_s::float8
FROM tasks t JOIN applications a USING (registration_number)
WHERE t.state = 'done' AND t.clock = 'running' AND t.used_working_s IS NOT NULL
ORDER BY t.closed_at DESC
LIMIT 200000
"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "simulate",
        help="what-if simulation of counters, staff and routes; two scenarios compared",
        description="Simulate a scenario file (definitions/scenarios/*.yaml): arrivals, "
        "staff per counter, service times, returns; report on-time share, lead times, "
        "queues, utilization and the bottleneck. See docs/simulation.md.",
    )
    parser.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    parser.add_argument("--compare", type=Path, metavar="OTHER.yaml", help="a second scenario")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write report.md, JSON, charts")
    parser.add_argument(
        "--definitions", type=Path, metavar="DIR", help="default: LOKET_DEFINITIONS_DIR"
    )
    parser.add_argument(
        "--fit-from-db",
        action="store_true",
        help="service times from real step durations in the read model (DATABASE_URL)",
    )
    parser.add_argument(
        "--progress", action="store_true", help="progress bar on stderr even without a TTY"
    )
    parser.set_defaults(func=_simulate)


class ProgressBar:
    """``[#####.....] day 40/180`` on stderr, redrawn in place; only when asked or a TTY."""

    WIDTH = 30

    def __init__(self, label: str) -> None:
        self.label = label
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // max(total, 1)
        if filled == self._shown and done != total:
            return
        self._shown = filled
        bar = "#" * filled + "." * (self.WIDTH - filled)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{self.label} [{bar}] day {done}/{total}{end}")
        sys.stderr.flush()


async def _fetch_durations() -> list[tuple[str, str, float]]:
    from loket.store.cli import database

    async with database(get_settings()) as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(DURATIONS_SQL)
        finally:
            await conn.close()
    return [(r[0], r[1], float(r[2])) for r in rows]


def _simulate(args: argparse.Namespace) -> int:
    definitions_dir: Path = args.definitions or get_settings().definitions_dir
    paths = [args.scenario] + ([args.compare] if args.compare else [])
    for path in paths:
        if not path.is_file():
            sys.stderr.write(f"loket simulate: no such scenario file: {path}\n")
            return EXIT_USAGE
    overrides: Mapping[tuple[str, str], Distribution] = {}
    if args.fit_from_db:
        try:
            overrides = fit_service_times(asyncio.run(_fetch_durations()))
        except (OSError, asyncpg.PostgresError) as exc:
            sys.stderr.write(f"loket simulate: cannot read the read model: {exc}\n")
            return EXIT_USAGE
        log.info("service times fitted from the read model for %d steps", len(overrides))
    show = args.progress or sys.stderr.isatty()
    results: list[SimulationResult] = []
    for path in paths:
        try:
            loaded = load_scenario(path, definitions_dir, overrides)
            timeline = scenario_timeline(loaded.scenario, definitions_dir)
        except (DefinitionErrors, ScenarioError) as exc:
            sys.stderr.write(f"{exc}\n")
            return EXIT_USAGE
        started = time.perf_counter()
        result = simulate(
            loaded.scenario,
            loaded.models,
            timeline,
            seed=args.seed,
            progress=ProgressBar(loaded.scenario.name) if show else None,
        )
        log.info("%s simulated in %.1f s", loaded.scenario.name, time.perf_counter() - started)
        results.append(result)
    sys.stdout.write(format_text(results))
    if args.out is not None:
        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)
        files = charts(results)
        for name, svg in files.items():
            (out / name).write_text(svg, encoding="utf-8")
        (out / "results.json").write_text(to_json(results), encoding="utf-8")
        (out / "report.md").write_text(format_markdown(results, list(files)), encoding="utf-8")
        sys.stdout.write(f"wrote {out / 'report.md'}, results.json and {len(files)} charts\n")
    return EXIT_OK
