"""The suite's guard against CPython 3.11's AST converter race (tests/ast_guard.py)."""

from __future__ import annotations

import ast
import gc
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import ast_guard

# Deep enough that a collection (and its callback) lands inside most conversions.
_SOURCE = "x = " + "(" * 50 + "1" + ")" * 50 + "\n" + "def f(a):\n    return [a, a]\n" * 30


def _collections_run(
    callback: Callable[[str, dict[str, Any]], None],
) -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(50)  # collect often: most conversions meet one
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(callback)


@pytest.fixture
def collections_run_python() -> Iterator[None]:
    """What the worker's GC pause callback does to the GIL."""

    def callback(phase: str, info: dict[str, Any]) -> None:
        time.perf_counter()

    yield from _collections_run(callback)


@pytest.fixture
def collections_format_tracebacks() -> Iterator[None]:
    """What a finalizer logging an exception does inside a collection."""

    def callback(phase: str, info: dict[str, Any]) -> None:
        try:
            raise ValueError(phase)
        except ValueError as e:
            traceback.format_exception(e)

    yield from _collections_run(callback)


def _errors_parsing(threads: int, seconds: float) -> list[BaseException]:
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def parse() -> None:
        while time.monotonic() < stop and not errors:
            try:
                ast.parse(_SOURCE)
            except SystemError as e:  # the race's symptom
                errors.append(e)

    running = [threading.Thread(target=parse) for _ in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join()
    return errors


def test_the_guard_is_installed() -> None:
    assert ast_guard.installed()


@pytest.mark.usefixtures("collections_run_python")
def test_two_threads_parse_at_once_while_collections_run_python() -> None:
    # Unguarded this fails within about 20 ms on Python 3.11.7.
    assert _errors_parsing(threads=2, seconds=1.0) == []


@pytest.mark.usefixtures("collections_format_tracebacks")
def test_a_traceback_formatted_inside_a_conversion_converts_nothing() -> None:
    # Unguarded every parse here fails: the caret parse resets the outer one's depth.
    assert _errors_parsing(threads=1, seconds=0.3) == []


def test_compile_and_tracebacks_still_work() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(ast.parse("y = 6 * 7"), "<test>", "exec"), namespace)
    assert namespace["y"] == 42
    assert compile("1 + 1", "<test>", "eval", dont_inherit=True).co_filename == "<test>"
    try:
        namespace["z"] = 1 + namespace["y"] / 0  # the failing span is part of the line
    except ZeroDivisionError as e:
        formatted = "".join(traceback.format_exception(e))
    assert "ZeroDivisionError" in formatted
    assert "^" in formatted  # the span is still marked
