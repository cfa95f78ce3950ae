# syntax=docker/dockerfile:1
# The Loket image: the worker (`python worker.py`) and the API (`loket api`) both run it.
# Dependencies are installed with the same exact pins CI tested (constraints.txt).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (a layer that survives code changes): the pinned runtime set only,
# no dev tools (the inline script lists [project].dependencies of pyproject.toml).
COPY pyproject.toml constraints.txt ./
RUN python - <<'PY' > /tmp/requirements.txt && pip install -r /tmp/requirements.txt -c constraints.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY

# The project itself, editable so that definitions/ and the data paths stay under /app.
COPY worker.py ./
COPY loket ./loket
COPY workflows ./workflows
COPY activities ./activities
COPY definitions ./definitions
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app loket \
    && mkdir -p /app/data && chown loket /app/data

USER loket
ENV LOKET_ENV=production \
    LOKET_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["loket", "api"]
