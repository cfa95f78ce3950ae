"""``loket audit``: tamper evidence of the audit chains (issue 9).

``digest`` signs every application's chain head with an Ed25519 key kept outside the
database and writes the open-data file; whoever keeps that file can later ``verify`` that no
published head was rewritten. ``check`` tests one chain's internal consistency (without
the workflow's record as anchor: the web audit trail does the anchored check). The
database is that of ``loket users``. Exit 0 done or intact, 1 refused, tampered or
invalid (the reason on stderr), 2 usage error.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.exceptions import UnsupportedAlgorithm

from loket import audit_digest
from loket.cli_common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    doc_help,
    exits,
    fail,
    new_app,
    out,
    progress,
    styled,
)
from loket.settings import get_settings
from loket.store.chain import ChainReport, chain_heads, check_chain, rewritten_since
from loket.store.cli import DatabaseUnavailable, on_connection
from loket.store.db import Conn

PRIVATE_KEY_FILE = "audit-signing-key.pem"
PUBLIC_KEY_FILE = "audit-public-key.pem"
OPEN_DATA_DIR = "open-data"
_KEY_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm)
_VERIFY_CHUNK = 500  # heads per progress step


def register(app: typer.Typer) -> None:
    audit = new_app(doc_help(__doc__))
    audit.command(
        "keygen",
        help=f"Write a new Ed25519 key pair to DIR: {PRIVATE_KEY_FILE} (mode 0600; keep it "
        f"off the database host) and {PUBLIC_KEY_FILE} (publish it). Never overwrites.",
        short_help="a new Ed25519 signing key pair",
    )(exits(_keygen))
    audit.command(
        "digest",
        help="Sign every application's chain head and write the open-data file (default: "
        f"DATA_DIR/{OPEN_DATA_DIR}/audit-digest-YYYY-MM-DD.json, the UTC date).",
        short_help="sign and write today's digest of every chain head",
    )(exits(_digest))
    audit.command(
        "verify",
        help="Check a digest's signature, then that each head it published is still in the "
        "database: exit 1 naming the applications whose history was rewritten.",
        short_help="a digest's signature, and which published heads were rewritten",
    )(exits(_verify))
    audit.command(
        "check",
        help="Check one application's chain for internal consistency and its task and "
        "application rows against the audit events; exit 1 when not intact.",
        short_help="one application's chain (internal consistency)",
    )(exits(_check))
    app.add_typer(
        audit,
        name="audit",
        short_help="tamper evidence: keygen, digest, verify, check",
        rich_help_panel="Audit",
    )


def _keygen(
    out_dir: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="folder for the two key files")
    ],
) -> int:
    private_path, public_path = out_dir / PRIVATE_KEY_FILE, out_dir / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            return fail("audit keygen", f"{path} exists: a new key cannot verify older digests")
    if out_dir.exists() and not out_dir.is_dir():
        return fail("audit keygen", f"not a folder: {out_dir}", EXIT_USAGE)
    private, public = audit_digest.new_key_pair()
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_new(private_path, private, 0o600)
    _write_new(public_path, public, 0o644)
    out(f"wrote {private_path} (private, mode 0600: keep it off the database host)")
    out(f"wrote {public_path} (publish it beside the digests)")
    return EXIT_OK


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never readable by others meanwhile)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away
        os.write(fd, data)
    finally:
        os.close(fd)


def _digest(
    key: Annotated[
        Path, typer.Option("--key", metavar="PRIVATE.pem", help="the Ed25519 signing key")
    ],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="where to write the digest", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing file")] = False,
) -> int:
    try:
        private = key.read_bytes()
    except OSError as exc:
        return fail("audit digest", f"cannot read the key: {exc}", EXIT_USAGE)
    published_at = datetime.now(UTC).replace(microsecond=0)
    target = out_file or (
        get_settings().data_dir / OPEN_DATA_DIR / f"audit-digest-{published_at:%Y-%m-%d}.json"
    )
    if target.exists() and not force:
        return fail("audit digest", f"{target} exists (--force replaces it)")
    try:
        heads = on_connection(chain_heads, migrate_first=False)
        signed = audit_digest.sign(audit_digest.digest_document(heads, published_at), private)
    except DatabaseUnavailable as exc:
        return fail("audit digest", exc)
    except _KEY_ERRORS as exc:
        return fail("audit digest", f"{key}: not an unencrypted Ed25519 private key ({exc})")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(target)
    out(f"wrote {target}: {len(heads)} chain heads, signed at {published_at.isoformat()}")
    return EXIT_OK


def _load_digest(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") != audit_digest.FORMAT:
        raise ValueError(f"not a Loket audit digest (format {audit_digest.FORMAT})")
    audit_digest.heads_of(document)  # KeyError/TypeError/ValueError when malformed
    return document


def _verify(
    digest_file: Annotated[Path, typer.Argument(metavar="FILE", help="a published digest")],
    public_key: Annotated[
        Path,
        typer.Option("--public-key", metavar="PUBLIC.pem", help="the published Ed25519 key"),
    ],
) -> int:
    try:
        document = _load_digest(digest_file)
        public = public_key.read_bytes()
    except OSError as exc:
        return fail("audit verify", exc, EXIT_USAGE)
    except (ValueError, KeyError, TypeError) as exc:
        return fail("audit verify", f"{digest_file}: {exc}")
    try:
        valid = audit_digest.signature_valid(document, public)
    except _KEY_ERRORS as exc:
        return fail("audit verify", f"{public_key}: not an Ed25519 public key ({exc})")
    if not valid:
        return fail(
            "audit verify",
            f"{digest_file}: signature {styled('INVALID', 'red', err=True)}: changed after "
            "signing, or signed with another key",
        )
    heads = audit_digest.heads_of(document)
    published = document.get("published_at", "?")
    out(f"{digest_file}: signature valid, {len(heads)} chain heads published at {published}")

    async def rewritten(conn: Conn) -> list[str]:
        found: list[str] = []
        with progress("verify", unit="heads", show=len(heads) > _VERIFY_CHUNK) as advance:
            for start in range(0, len(heads), _VERIFY_CHUNK):
                found += await rewritten_since(conn, heads[start : start + _VERIFY_CHUNK])
                advance(min(start + _VERIFY_CHUNK, len(heads)), len(heads))
        return found

    try:
        changed = on_connection(rewritten, migrate_first=False)
    except DatabaseUnavailable as exc:
        return fail("audit verify", exc)
    for registration_number in changed:
        out(f"rewritten: {registration_number}")
    if changed:
        verdict = styled("history rewritten", "red", bold=True)
        out(f"{len(changed)} of {len(heads)} published heads changed since {published}: {verdict}")
        return EXIT_REFUSED
    out(f"every published head is unchanged: {styled('intact', 'green')}")
    return EXIT_OK


def _check(
    registration_number: Annotated[
        str, typer.Argument(metavar="REG", help="registration number, e.g. PBG-2026-000123")
    ],
) -> int:
    async def check(conn: Conn) -> ChainReport | None:
        known = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE registration_number = $1)",
            registration_number,
        )
        report = await check_chain(conn, registration_number)
        return report if known or report.rows else None

    try:
        report = on_connection(check, migrate_first=False)
    except DatabaseUnavailable as exc:
        return fail("audit check", exc)
    if report is None:
        return fail("audit check", f"unknown application {registration_number}")
    for what, seqs in (("altered", report.altered), ("missing", report.missing)):
        if seqs:
            out(f"{what} at seq: {', '.join(map(str, seqs))}")
    if report.added:
        out(f"added at seq: {', '.join(map(str, report.added))}")
    if report.state_mismatches:
        out(f"rows differing from the audit: {', '.join(report.state_mismatches)}")
    verdict = styled("intact", "green") if report.intact else styled("NOT intact", "red", bold=True)
    out(f"{registration_number}: {report.rows} audit rows, chain {verdict} (not anchored)")
    return EXIT_OK if report.intact else EXIT_REFUSED
