"""A small mutation check, run before closing work on a guard: does a test fail without it?

    .venv/bin/python bench/mutants.py                    # every mutant
    .venv/bin/python bench/mutants.py guards chain-prev  # some of them, by name
    .venv/bin/python bench/mutants.py --list

Each mutant names a file, the exact snippet of it that a guard lives in, its replacement,
and the test node ids expected to catch it. The repository is copied once into a temp
folder (without .venv, .git and caches); for each mutant the script first checks that
every snippet occurs exactly once, applies it, runs the named tests with this .venv's
python (``python -m pytest`` in the copy: the copy's code comes first on sys.path, ahead
of the editable install), restores the file, and reports which tests failed.

Before the mutants, the named tests run once on the unchanged copy: a mutant only counts
as caught when those tests pass without it. Exit 1 when any mutant survives (its tests
all pass), a snippet is missing, or the baseline fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", "results", "*.egg-info"
)
RUN_TIMEOUT_S = 900.0  # one mutant's tests; a hang counts as caught, reported as such


@dataclass(frozen=True)
class Edit:
    path: str
    original: str
    replacement: str


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]


RECORDS = "loket/store/records.py"
CHAIN = "loket/store/chain.py"
CHECKS = "loket/case/checks.py"
T_RECORDS = "tests/store/test_records.py"
T_CHAIN = "tests/store/test_chain.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "guards",
        "apply_batch: both idempotency guards removed",
        (
            Edit(
                RECORDS,
                "        if batch.audit and batch.audit[-1].seq <= last_seq:\n"
                "            return False\n",
                "",
            ),
            Edit(
                RECORDS,
                "            if entry.seq <= last_seq:\n                continue\n",
                "",
            ),
        ),
        (
            f"{T_RECORDS}::test_a_retried_batch_writes_nothing_twice",
            f"{T_RECORDS}::test_a_batch_overlapping_what_is_written_adds_only_its_new_events",
            "tests/workflow/test_worker_crash.py::"
            "test_a_batch_retried_after_its_commit_writes_nothing_twice",
        ),
    ),
    Mutant(
        "guard-batch",
        "apply_batch: the whole-batch guard removed (a retry rewrites rows, an old batch rolls back)",
        (
            Edit(
                RECORDS,
                "        if batch.audit and batch.audit[-1].seq <= last_seq:\n"
                "            return False\n",
                "",
            ),
        ),
        (
            f"{T_RECORDS}::test_a_retried_batch_writes_nothing_twice",
            "tests/workflow/test_worker_crash.py::"
            "test_a_batch_retried_after_its_commit_writes_nothing_twice",
        ),
    ),
    Mutant(
        "guard-event",
        "apply_batch: the per-event guard removed (events already written inserted again)",
        (Edit(RECORDS, "            if entry.seq <= last_seq:\n                continue\n", ""),),
        (f"{T_RECORDS}::test_a_batch_overlapping_what_is_written_adds_only_its_new_events",),
    ),
    Mutant(
        "staff-task-counter",
        "API: staff read and work any counter's task (the counter check of the task read)",
        (
            Edit(
                "loket/api/staff.py",
                "    if not rule(task.agency, task.counter):\n",
                "    if False:\n",
            ),
        ),
        (
            "tests/web/test_authz_matrix.py::test_no_role_reaches_what_it_must_not",
            "tests/api/test_security_log.py",
        ),
    ),
    Mutant(
        "staff-inbox-counter",
        "store: the inbox lists every counter's tasks",
        (
            Edit(
                "loket/store/queries.py",
                "          AND (t.agency = ANY($3::text[])\n",
                "          AND (true OR t.agency = ANY($3::text[])\n",
            ),
        ),
        (
            "tests/web/test_authz_matrix.py::test_no_role_reaches_what_it_must_not",
            "tests/api/test_api_staff.py",
        ),
    ),
    Mutant(
        "chain-prev-check",
        "the internal chain check (verify_audit_chain, check_chain without anchor): prev_hash comparison removed",
        (
            Edit(
                CHAIN,
                'if row["prev_hash"] != prev or row["hash"] != digest:',
                'if row["hash"] != digest:',
            ),
        ),
        (f"{T_RECORDS}::test_a_broken_prev_hash_link_is_named",),
    ),
    Mutant(
        "chain-anchor",
        "check_chain with anchor: the anchored comparison removed",
        (
            Edit(
                CHAIN,
                'if found["hash"] != expected or digest != expected:',
                "if False:",
            ),
        ),
        (
            f"{T_CHAIN}::test_a_rewrite_with_recomputed_hashes_is_caught_at_its_seq",
            f"{T_RECORDS}::test_anchored_check_compares_stored_hash_and_content",
        ),
    ),
    Mutant(
        "chain-anchor-stored",
        "check_chain with anchor: only the content is recomputed, the stored hash not compared",
        (
            Edit(
                CHAIN,
                'if found["hash"] != expected or digest != expected:',
                "if digest != expected:",
            ),
        ),
        (f"{T_RECORDS}::test_anchored_check_compares_stored_hash_and_content",),
    ),
    Mutant(
        "chain-anchor-content",
        "check_chain with anchor: only the stored hash is compared, the content not recomputed",
        (
            Edit(
                CHAIN,
                'if found["hash"] != expected or digest != expected:',
                'if found["hash"] != expected:',
            ),
        ),
        (f"{T_RECORDS}::test_anchored_check_compares_stored_hash_and_content",),
    ),
    Mutant(
        "case-counter",
        "case core: staff() accepts a member of staff of any counter",
        (
            Edit(
                CHECKS,
                "    if not actor.serves(step.agency, step.counter):\n"
                "        raise Refused(RefusalCode.NOT_YOUR_COUNTER, step_id=step_id)\n"
                "    clock = _open_clock(state, step_id)\n",
                "    clock = _open_clock(state, step_id)\n",
            ),
        ),
        (
            "tests/workflow/test_permit_ts.py",
            "tests/workflow/test_wedges_ts.py",
        ),
    ),
    Mutant(
        "case-text",
        "case core: text() accepts NUL and control characters",
        (
            Edit(
                CHECKS,
                "    if problem is not None:\n        raise Refused(RefusalCode.INVALID_TEXT",
                "    if problem is None and False:\n        raise Refused(RefusalCode.INVALID_TEXT",
            ),
        ),
        ("tests/workflow/test_wedges_ts.py",),
    ),
    Mutant(
        "recompute-extensions",
        "case core: _base_due forgets the extensions (a recompute drops them)",
        (
            Edit(
                "loket/case/core.py",
                "        for extra in clock.extensions:\n"
                "            due = calendar.add(due, WorkDuration.parse(extra))\n",
                "",
            ),
        ),
        (
            "tests/workflow/test_deadlines_ts.py",
            "tests/unit/test_case_properties.py",
        ),
    ),
)


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # caught, survived, timeout, missing, error
    failed: list[str]
    seconds: float
    detail: str = ""


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", re.MULTILINE)


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[int | None, list[str], str]:
    """(pytest's exit code or None on timeout, failed node ids, output tail)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(
            command,
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return None, [], out[-2000:]
    output = done.stdout + done.stderr
    return done.returncode, sorted(set(_FAILED.findall(done.stdout))), output[-2000:]


def check_edits(copy: Path, mutant: Mutant) -> str:
    for edit in mutant.edits:
        found = (copy / edit.path).read_text().count(edit.original)
        if found != 1:
            return f"{edit.path}: snippet found {found} times, expected once"
    return ""


def apply(copy: Path, mutant: Mutant) -> dict[Path, str]:
    originals: dict[Path, str] = {}
    for edit in mutant.edits:
        path = copy / edit.path
        originals.setdefault(path, path.read_text())
        path.write_text(path.read_text().replace(edit.original, edit.replacement, 1))
    return originals


def try_mutant(copy: Path, mutant: Mutant) -> Outcome:
    started = time.monotonic()
    problem = check_edits(copy, mutant)
    if problem:
        return Outcome(mutant, "missing", [], 0.0, problem)
    originals = apply(copy, mutant)
    try:
        code, failed, tail = run_tests(copy, mutant.tests)
    finally:
        for path, text in originals.items():
            path.write_text(text)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutant, "timeout", [], seconds, "tests did not finish")
    if code == 0:
        return Outcome(mutant, "survived", [], seconds)
    if code == 1 and failed:
        return Outcome(mutant, "caught", failed, seconds)
    return Outcome(mutant, "error", failed, seconds, f"pytest exit {code}: {tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run on the unchanged copy"
    )
    args = parser.parse_args()
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:22} {m.what}")
        return 0
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutants: {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]

    with tempfile.TemporaryDirectory(prefix="loket-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(ROOT, copy, ignore=IGNORED, symlinks=True)
        if not args.no_baseline:
            tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            print(f"baseline: {len(tests)} test targets on the unchanged copy...", flush=True)
            code, failed, tail = run_tests(copy, tests)
            if code != 0:
                print(f"baseline FAILED (exit {code}): {failed}\n{tail}")
                return 1
        outcomes = []
        for mutant in chosen:
            print(f"{mutant.name}: {mutant.what}...", flush=True)
            outcome = try_mutant(copy, mutant)
            outcomes.append(outcome)
            caught_by = ", ".join(outcome.failed) or "-"
            print(f"  {outcome.status} in {outcome.seconds:.0f}s; failed: {caught_by}", flush=True)
            if outcome.detail:
                print(f"  {outcome.detail}")

    print("\n| mutant | what | result | caught by |\n|---|---|---|---|")
    for o in outcomes:
        print(
            f"| `{o.mutant.name}` | {o.mutant.what} | {o.status} | {'<br>'.join(o.failed) or '-'} |"
        )
    bad = [o for o in outcomes if o.status not in ("caught", "timeout")]
    print(f"\n{len(outcomes) - len(bad)}/{len(outcomes)} caught")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
