"""The daily digest of every audit chain head, signed outside the database.

Published as an open-data file: whoever keeps yesterday's digest can show that a later
rewrite of history changed a head that was already published. The signing key is an
Ed25519 private key held by the operator (a file or a secret store), never by PostgreSQL;
the public key is published beside the digests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "loket-audit-digest/1"


def digest_document(
    heads: Sequence[tuple[str, int, str]], published_at: datetime
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "published_at": published_at.isoformat(),
        "applications": len(heads),
        "heads": [{"registration_number": r, "seq": s, "hash": h} for r, s, h in heads],
    }


def _canonical(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(document: dict[str, Any], private_key_pem: bytes) -> dict[str, Any]:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    signature = base64.b64encode(key.sign(_canonical(document))).decode()
    return {**document, "signature": {"algorithm": "Ed25519", "value": signature}}


def signature_valid(document: dict[str, Any], public_key_pem: bytes) -> bool:
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key must be an Ed25519 key")
    try:
        key.verify(base64.b64decode(document["signature"]["value"]), _canonical(document))
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


def new_key_pair() -> tuple[bytes, bytes]:
    """A fresh (private PEM, public PEM) pair for ``loket audit keygen``."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def heads_of(document: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(h["registration_number"], int(h["seq"]), h["hash"]) for h in document["heads"]]
