"""Benchmark: one year of the regency's MPP simulated (definitions/scenarios/mpp-year.yaml).

    .venv/bin/python bench/simulate.py [--seed N] [--scenario FILE]

Reports applications simulated, wall time (loading the definitions and the calendar, and
the simulation itself) and peak memory (max RSS of this process). Target: under 60 s
for at least 50,000 applications on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from loket.settings import PROJECT_ROOT
from loket.simulation.engine import simulate
from loket.simulation.files import load_scenario, scenario_timeline
from loket.simulation.report import format_text

DEFINITIONS = PROJECT_ROOT / "definitions"
TARGET_S = 60.0
MIN_APPLICATIONS = 50_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", type=Path, default=DEFINITIONS / "scenarios" / "mpp-year.yaml"
    )
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()

    started = time.perf_counter()
    loaded = load_scenario(args.scenario, DEFINITIONS)
    timeline = scenario_timeline(loaded.scenario, DEFINITIONS)
    loaded_at = time.perf_counter()
    result = simulate(loaded.scenario, loaded.models, timeline, seed=args.seed)
    done = time.perf_counter()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    totals = result.totals()
    sys.stdout.write(format_text([result]))
    sys.stdout.write(
        f"\napplications in the statistics: {totals.arrived:,} "
        f"({totals.finished:,} finished); working days: {len(result.days)}\n"
        f"load definitions + calendar: {loaded_at - started:.1f} s\n"
        f"simulation:                  {done - loaded_at:.1f} s\n"
        f"wall time total:             {done - started:.1f} s (target < {TARGET_S:.0f} s)\n"
        f"peak memory (max RSS):       {peak_mib:.0f} MiB\n"
    )
    ok = done - started < TARGET_S and totals.arrived >= MIN_APPLICATIONS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
