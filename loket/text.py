"""Text that fits where it goes: every free-text value a case accepts ends up in a
PostgreSQL ``text`` or ``jsonb`` column, which refuses NUL and lone surrogates for good.

One rule, used at the edges (API bodies, page forms, the CLI) and again by the case core:
no control characters but newline and tab (a browser's CRLF becomes LF), no unpaired
surrogates. :data:`Text` is the pydantic type for multi-line text, :data:`Line` for a
single line (names, user names, identifiers).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls but TAB (\x09) and LF (\x0a); DEL; C1 controls; UTF-16 surrogates.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, single_line: bool = False) -> str | None:
    """Why ``value`` cannot be stored as it is, or None. Names the first bad character."""
    found = (_FORBIDDEN_LINE if single_line else _FORBIDDEN).search(value)
    if found is None:
        return None
    return f"contains the control character U+{ord(found.group()):04X} at position {found.start()}"


def clean_text(value: str) -> str:
    """``value`` with CRLF folded to LF; ValueError when a forbidden character remains."""
    value = value.replace("\r\n", "\n")
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def clean_line(value: str) -> str:
    problem = text_problem(value, single_line=True)
    if problem:
        raise ValueError(problem)
    return value


Text = Annotated[str, AfterValidator(clean_text)]
Line = Annotated[str, AfterValidator(clean_line)]
