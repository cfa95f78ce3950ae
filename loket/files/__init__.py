"""Content-addressed file storage: uploaded documents and issued permits.

A file is stored once under the SHA-256 of its content; only that reference (with size and
media type) travels through Temporal payloads, audit entries and the read model. Backends
sit behind one small protocol (``FileStore``); ``file_store`` picks one from the settings.
"""

from __future__ import annotations

from pathlib import Path

from loket.files.base import FileMissing, FileStore, FileTooLarge, StoredFile, is_sha256
from loket.files.local import LocalFileStore
from loket.settings import Settings


def file_store(settings: Settings) -> FileStore:
    """The configured backend: a folder under the data directory unless a URL says else."""
    url = settings.file_store_url
    if not url:
        return LocalFileStore(settings.data_dir / "files")
    if url.startswith("file://"):
        return LocalFileStore(Path(url.removeprefix("file://")))
    raise ValueError(f"LOKET_FILE_STORE_URL: unsupported scheme in {url!r}")


__all__ = [
    "FileMissing",
    "FileStore",
    "FileTooLarge",
    "LocalFileStore",
    "StoredFile",
    "file_store",
    "is_sha256",
]
