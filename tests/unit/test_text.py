"""Text that fits where it goes: loket.text's rule, and every text field of every request
model of the API refusing what PostgreSQL would refuse for good (NUL, control characters,
lone surrogates) with an error naming the field.

The request models are enumerated from the app's routes: a new body model with a plain
``str`` field fails here."""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ValidationError

from loket.compose import create_app
from loket.settings import Settings
from loket.text import clean_line, clean_text, text_problem

BAD_TEXT = {
    "NUL": "a\x00b",
    "bell": "a\x07b",
    "escape": "\x1b[31mred",
    "DEL": "a\x7fb",
    "C1": "a\x85b",
    "lone surrogate": "a\ud800b",
}


@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_text_refuses_what_postgresql_refuses(value: str) -> None:
    assert text_problem(value) is not None
    with pytest.raises(ValueError, match="control character"):
        clean_text(value)
    with pytest.raises(ValueError, match="control character"):
        clean_line(value)


def test_newlines_and_tabs_are_text_but_not_a_line() -> None:
    assert clean_text("a\r\nb\tc") == "a\nb\tc"
    with pytest.raises(ValueError):
        clean_line("a\nb")
    assert clean_line("Siti Rahayu, S.T.") == "Siti Rahayu, S.T."


def _request_models() -> dict[str, type[BaseModel]]:
    app = create_app(Settings(env="test"), "postgresql://unused")
    found: dict[str, type[BaseModel]] = {}
    for context in iter_route_contexts(app.routes):
        body = getattr(context.original_route, "body_field", None)
        if body is None:
            continue
        annotation = body.field_info.annotation
        # FastAPI's own model of the OAuth2 sign-in form: checked by the sign-in itself
        # (tests/api/test_bad_input.py).
        if (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and not annotation.__name__.startswith("Body_")
        ):
            found[annotation.__name__] = annotation
    return found


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_text(a) for a in typing.get_args(annotation))
    return False


TEXT_FIELDS = sorted(
    (name, field)
    for name, model in _request_models().items()
    for field, info in model.model_fields.items()
    if _is_text(info.annotation)
)


def test_the_request_models_are_all_found() -> None:
    fields = {f"{m}.{f}" for m, f in TEXT_FIELDS}
    assert fields >= {
        "DecideBody.outcome",
        "DecideBody.note",
        "CancelBody.reason",
        "ExtendIn.extra",
        "ExtendIn.reason",
        "RecomputeIn.reason",
        "ReassignBody.to",
        "ReassignBody.reason",
        "TrackBody.access_code",
        "ResubmitBody.note",
        "SubmitBody.permit_type",
    }


@pytest.mark.parametrize(("model", "field"), TEXT_FIELDS)
@pytest.mark.parametrize("value", [*BAD_TEXT.values(), "x" * 5000], ids=[*BAD_TEXT, "huge"])
def test_every_text_field_refuses_bad_text_naming_itself(
    model: str, field: str, value: str
) -> None:
    cls = _request_models()[model]
    with pytest.raises(ValidationError) as caught:
        cls.model_validate({field: value})
    mine = [e for e in caught.value.errors() if e["loc"] == (field,)]
    assert mine, f"{model}.{field} accepted {value[:20]!r}"
    assert mine[0]["type"] in (
        "value_error",  # loket.text
        "string_unicode",  # pydantic itself refuses a lone surrogate
        "string_pattern_mismatch",
        "string_too_long",
        "too_long",
    )


def test_every_code_has_words_in_both_languages() -> None:
    from loket.edge.messages import ENGLISH, INDONESIAN
    from loket.refusal import RefusalCode

    assert set(ENGLISH) == set(INDONESIAN)
    assert {c.value for c in RefusalCode} <= set(ENGLISH)
