"""render_permit in render processes (issue 13): the same stored PDF as a render in a
thread, the processes started only at the first render and stopped by close(), and a
render process that died costs one failed (retried) attempt, not every later one."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from activities.permits import PermitActivities
from loket.files import LocalFileStore
from tests.unit.test_permit_pdf import document


def _activities(tmp_path: Path, processes: int) -> PermitActivities:
    # Rendering never touches the database pool (numbering does).
    no_pool = cast(asyncpg.Pool, None)
    return PermitActivities(
        no_pool, LocalFileStore(tmp_path), "http://loket.test", render_processes=processes
    )


@pytest.fixture
def in_processes(tmp_path: Path) -> Iterator[PermitActivities]:
    permits = _activities(tmp_path / "p", 1)
    yield permits
    permits.close()


async def test_a_render_process_stores_the_same_pdf_as_a_thread(
    tmp_path: Path, in_processes: PermitActivities
) -> None:
    before = set(multiprocessing.active_children())
    in_thread = await _activities(tmp_path / "t", 0).render_permit(document())
    assert set(multiprocessing.active_children()) == before  # a thread starts no process
    issued = await in_processes.render_permit(document())
    started = set(multiprocessing.active_children()) - before
    assert len(started) == 1 and all(p.pid != os.getpid() for p in started)
    assert issued == in_thread and issued.pdf_sha256 == in_thread.pdf_sha256
    in_processes.close()
    assert not set(multiprocessing.active_children()) - before


async def test_a_dead_render_process_fails_one_attempt_and_the_next_starts_anew(
    in_processes: PermitActivities,
) -> None:
    before = set(multiprocessing.active_children())
    first = await in_processes.render_permit(document())
    (child,) = set(multiprocessing.active_children()) - before
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    with pytest.raises(BrokenProcessPool):
        await in_processes.render_permit(document())
    assert await in_processes.render_permit(document()) == first
