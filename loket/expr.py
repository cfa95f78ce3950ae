"""CEL expressions for route conditions and fee formulas: compiled once, never ``eval``.

CEL does not coerce between int and double, so form values reach expressions with the
type their field declares (``integer`` as int, ``number`` as double). Authors write
``double(x)`` where they mix the two; validation evaluates every expression against
sample values of the declared types so that such a mistake is caught before go-live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel


class ExpressionError(ValueError):
    """An expression that does not compile, or fails when evaluated."""


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    _program: Any

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(self._program.variables())

    def evaluate(self, env: Mapping[str, object]) -> object:
        try:
            return self._program.execute(dict(env))
        except Exception as exc:  # the binding raises plain TypeError/ValueError/RuntimeError
            raise ExpressionError(f"{self.source!r}: {_first_line(exc)}") from exc

    def evaluate_bool(self, env: Mapping[str, object]) -> bool:
        value = self.evaluate(env)
        if not isinstance(value, bool):
            raise ExpressionError(f"{self.source!r} gives {type(value).__name__}, not bool")
        return value

    def evaluate_number(self, env: Mapping[str, object]) -> float:
        value = self.evaluate(env)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(f"{self.source!r} gives {type(value).__name__}, not a number")
        return float(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Expression:
    """Compile ``source``; :class:`ExpressionError` says why it does not compile."""
    if not source.strip():
        raise ExpressionError("empty expression")
    try:
        program = cel.compile(source)
    except Exception as exc:
        raise ExpressionError(f"{source!r} does not compile: {_first_line(exc)}") from exc
    return Expression(source, program)
