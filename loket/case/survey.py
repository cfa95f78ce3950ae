"""The satisfaction survey's index (SKM, Permenpan RB 14/2017): pure rules, no I/O.

Nine service elements, each rated 1-4. The index IKM is the mean of the nine element
averages, converted to 25-100 by x 25, graded A-D by the regulation's intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor
from typing import Literal

# Column names of the store and the API, in the regulation's order (U1..U9).
ELEMENTS: tuple[str, ...] = (
    "persyaratan",
    "prosedur",
    "waktu",
    "biaya",
    "produk",
    "kompetensi",
    "perilaku",
    "pengaduan",
    "sarana",
)
RATING_MIN, RATING_MAX = 1, 4
CONVERSION = 25  # the regulation's factor from the 1-4 scale to 25-100

Grade = Literal["A", "B", "C", "D"]
# Lower bounds of each grade on the index rounded to two decimals (A 88.31-100,
# B 76.61-88.30, C 65.00-76.60, D 25.00-64.99).
GRADE_FLOORS: tuple[tuple[float, Grade], ...] = (
    (88.31, "A"),
    (76.61, "B"),
    (65.00, "C"),
    (25.00, "D"),
)


@dataclass(frozen=True)
class SurveyIndex:
    respondents: int
    element_averages: Mapping[str, float]
    index: float  # IKM, rounded to two decimals
    grade: Grade


def survey_index(responses: Sequence[Mapping[str, int]]) -> SurveyIndex | None:
    """IKM of ``responses`` (each rates every element 1-4); None when there are none."""
    if not responses:
        return None
    averages: dict[str, float] = {}
    for element in ELEMENTS:
        ratings = [r[element] for r in responses]
        if any(not RATING_MIN <= x <= RATING_MAX for x in ratings):
            raise ValueError(f"a rating of '{element}' is outside {RATING_MIN}-{RATING_MAX}")
        averages[element] = sum(ratings) / len(ratings)
    # Every response rates all nine, so the mean of the averages is the grand mean: kept an
    # exact fraction and rounded half up, so a boundary such as 88.31 is not lost to noise.
    total = sum(sum(r[e] for e in ELEMENTS) for r in responses)
    exact = Fraction(total * CONVERSION, len(responses) * len(ELEMENTS))
    index = floor(exact * 100 + Fraction(1, 2)) / 100
    grade = next(g for floor, g in GRADE_FLOORS if index >= floor)
    return SurveyIndex(
        respondents=len(responses), element_averages=averages, index=index, grade=grade
    )
