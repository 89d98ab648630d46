# One image, two roles: the API (default) or a worker (`docker run IMAGE worker`).
# Configuration comes from the environment: DATABASE_URL, REDIS_URL, CASEIMPORT_* (README.md).
# A full version tag: two builds start from the same Python (Debian's updates aside).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CASEIMPORT_FRONTEND_DIR=/app/frontend

# A numeric uid and gid of its own, made before anything is installed; it owns no file here.
RUN groupadd --system --gid 10001 caseimport \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin caseimport

WORKDIR /app
# The locked dependencies before the code: this layer is built again only when the lock changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY cli ./cli
COPY worker ./worker
COPY migrations ./migrations
COPY frontend ./frontend
# The project alone: its dependencies and its build backend are the lock's.
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# Never run as root.
USER 10001:10001

EXPOSE 8000
# The API's liveness (no curl in a slim image: Python's own client). A worker serves no HTTP:
# compose.yaml turns this off for its workers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["caseimport"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
