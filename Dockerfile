# syntax=docker/dockerfile:1
# The Loket image: the worker (`loket worker`) and the API (`loket api`) both run it.
# Only the runtime dependencies, with the exact pins CI tested (constraints.txt): neither the
# `dev` tools nor the `local` extra (Temporal CLI, test server, pgserver: a server uses its
# own Temporal and PostgreSQL). tests/ops/test_image.py reads this file to hold it to that.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

# No PYTHONDONTWRITEBYTECODE: the bytecode is compiled once, below, at build time. The
# worker's sandbox re-imports the workflow module for every new workflow and needs its .pyc;
# the container runs as a non-root user on a read-only root file system, so nothing could
# write one at run time.
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (a layer that survives code changes): [project].dependencies of
# pyproject.toml only, read by the inline script, pinned by constraints.txt.
COPY pyproject.toml constraints.txt ./
RUN python - <<'PY' > /tmp/requirements.txt && pip install -r /tmp/requirements.txt -c constraints.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY

COPY worker.py ./
COPY loket ./loket
COPY workflows ./workflows
COPY activities ./activities
COPY definitions ./definitions
# The project without extras and without dependencies (installed above); then every .py of
# the project and of site-packages byte-compiled while the files are still writable.
RUN pip install --no-deps -e . \
    && python -m compileall -q /app/worker.py /app/loket /app/workflows /app/activities \
    && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && useradd --system --uid 10001 --no-create-home --home-dir /app loket

USER 10001
ENV LOKET_ENV=production \
    LOKET_API_HOST=0.0.0.0 \
    LOKET_OPS_HOST=0.0.0.0 \
    LOKET_OPS_PORT=9100 \
    LOKET_LOG_FORMAT=json
EXPOSE 8000 9100
CMD ["loket", "api"]
