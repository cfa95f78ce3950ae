"""Words for the codes of field errors (``errors[].code`` of a 422), in Bahasa Indonesia and
English: what a form shows beside the field, never pydantic's English sentence.

Codes come from :mod:`loket.services.fields` and :mod:`loket.route.form`; an unknown code
reads as "not a valid value". Kept beside :mod:`loket.edge.messages` (the codes of whole
answers) as the readable pages' part of the edge catalogs (12c).
"""

from __future__ import annotations

ENGLISH: dict[str, str] = {
    "missing": "required",
    "invalid_text": "contains characters that cannot be stored",
    "unknown_field": "not a field of this form",
    "too_long": "too long",
    "too_short": "too short",
    "out_of_range": "out of the allowed range",
    "invalid_format": "not in the right format",
    "not_a_choice": "choose one of the options",
    "amount_out_of_range": "the fee of this value is out of range",
    "invalid": "not a valid value",
}

INDONESIAN: dict[str, str] = {
    "missing": "wajib diisi",
    "invalid_text": "berisi karakter yang tidak dapat disimpan",
    "unknown_field": "bukan isian formulir ini",
    "too_long": "terlalu panjang",
    "too_short": "terlalu pendek",
    "out_of_range": "di luar batas yang diizinkan",
    "invalid_format": "formatnya tidak sesuai",
    "not_a_choice": "pilih salah satu pilihan",
    "amount_out_of_range": "biaya untuk nilai ini di luar batas",
    "invalid": "nilai tidak sah",
}

CATALOGS = {"en": ENGLISH, "id": INDONESIAN}


def field_message(code: str, lang: str = "en") -> str:
    catalog = CATALOGS.get(lang, ENGLISH)
    return catalog.get(code) or catalog["invalid"]
