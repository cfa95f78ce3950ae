"""The test process converts one Python AST at a time (CPython 3.11's converter race).

Python 3.11 keeps the recursion depth of its AST converters in interpreter-wide state
(cpython gh-106905, fixed in later versions). A conversion that starts while another is
under way resets it, and the outer one raises ``SystemError: AST constructor recursion
depth mismatch``. Two ways in, both seen in this suite:

- **Another thread.** A garbage collection inside a conversion runs Python code (the
  worker's ``loket_gc_pause_seconds`` callback, finalizers), so the GIL can change hands.
  pytest rewriting a lazily imported plugin module (schemathesis in the fuzz test's client
  thread, anyio in the main thread) met Temporal's workflow threads formatting tracebacks.
- **The same thread.** A finalizer run by that collection logs an exception, and formatting
  its traceback ``ast.parse``-es the source line for PEP 657's carets: a conversion inside
  the conversion.

So every ``compile`` (``ast.parse`` is ``compile(..., PyCF_ONLY_AST)``, a rewritten module
is ``compile(tree)``) takes one lock, and tracebacks skip the caret anchors (``~~~^^^``),
the only conversion that could start inside another. Tracebacks keep their ``^`` spans.
Outside the tests the race costs a worker nothing: its only conversion is that caret
parse, which suppresses the error.
"""

from __future__ import annotations

import builtins
import threading
import traceback
from typing import Any

_LOCK = threading.RLock()  # re-entrant: a nested compile that is no conversion must not hang
_COMPILE = builtins.compile


def _serialized_compile(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return _COMPILE(*args, **kwargs)


def _no_anchors(segment: str) -> None:
    return None


def install() -> None:
    builtins.compile = _serialized_compile
    traceback._extract_caret_anchors_from_line_segment = _no_anchors  # type: ignore[attr-defined]


def installed() -> bool:
    anchors = traceback._extract_caret_anchors_from_line_segment  # type: ignore[attr-defined]
    return builtins.compile is _serialized_compile and anchors is _no_anchors
