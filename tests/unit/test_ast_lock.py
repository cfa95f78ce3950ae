"""The suite's guard against CPython 3.11's AST converter race (tests/ast_lock.py)."""

from __future__ import annotations

import ast
import gc
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests import ast_lock

# Deep enough that a collection (and its callback) lands inside most conversions.
_SOURCE = "x = " + "(" * 50 + "1" + ")" * 50 + "\n" + "def f(a):\n    return [a, a]\n" * 30


@pytest.fixture
def gc_runs_python() -> Iterator[None]:
    """What the worker's GC pause callback does to the GIL, collecting often."""

    def callback(phase: str, info: dict[str, Any]) -> None:
        time.perf_counter()

    threshold = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(50)
    yield
    gc.set_threshold(*threshold)
    gc.callbacks.remove(callback)


def _errors_of_two_threads_parsing(seconds: float) -> list[BaseException]:
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def parse() -> None:
        while time.monotonic() < stop and not errors:
            try:
                ast.parse(_SOURCE)
            except SystemError as e:  # the race's symptom
                errors.append(e)

    threads = [threading.Thread(target=parse) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.usefixtures("gc_runs_python")
def test_two_threads_parse_at_once_while_collections_run_python() -> None:
    # Without the lock this fails within about 20 ms on Python 3.11.7.
    assert ast_lock.installed()
    assert _errors_of_two_threads_parsing(1.0) == []


def test_the_lock_passes_compile_through() -> None:
    tree = ast.parse("y = 6 * 7")
    namespace: dict[str, Any] = {}
    exec(compile(tree, "<test>", "exec"), namespace)
    assert namespace["y"] == 42
    assert compile("1 + 1", "<test>", "eval", dont_inherit=True).co_filename == "<test>"
