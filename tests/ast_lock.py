"""One thread at a time converts Python ASTs in the test process (CPython 3.11's race).

Python 3.11 keeps the recursion depth of its AST converters in interpreter-wide state
(cpython gh-106905, fixed in later versions): when a thread gives up the GIL inside a
conversion, another converting thread corrupts it, and one of them raises ``SystemError:
AST constructor recursion depth mismatch``. The GIL changes hands there whenever a garbage
collection during the conversion runs Python code, as the worker's ``loket_gc_pause_seconds``
callback does. The suite failed on it twice: pytest rewriting a lazily imported plugin
module (schemathesis in the fuzz test's client thread, anyio in the main thread) while
Temporal's workflow threads ``ast.parse`` the source line of every traceback they format
(PEP 657's carets; that call suppresses the error, so a worker only loses carets).

Every Python-level conversion goes through ``compile``: ``ast.parse`` is ``compile(...,
PyCF_ONLY_AST)`` and a rewritten module is ``compile(tree)``. Importing a module from source
converts nothing and is not slowed; the lock is held only for the call.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any

_LOCK = threading.RLock()  # re-entrant: a collection inside compile may compile again
_ORIGINAL = builtins.compile


def _serialized_compile(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return _ORIGINAL(*args, **kwargs)


def install() -> None:
    builtins.compile = _serialized_compile


def uninstall() -> None:
    builtins.compile = _ORIGINAL


def installed() -> bool:
    return builtins.compile is _serialized_compile
