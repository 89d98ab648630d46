# One image, two roles: the API (default) or a worker (`docker run IMAGE worker`).
# Configuration comes from the environment: DATABASE_URL, REDIS_URL, CASEIMPORT_* (README.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CASEIMPORT_FRONTEND_DIR=/app/frontend

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY cli ./cli
COPY worker ./worker
COPY migrations ./migrations
COPY frontend ./frontend
RUN pip install .

# Never run as root.
RUN useradd --system --uid 10001 --no-create-home caseimport
USER caseimport

# Probes belong to the orchestrator, per role: GET /healthz and /readyz on the API.
EXPOSE 8000
ENTRYPOINT ["caseimport"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
