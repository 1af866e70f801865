# syntax=docker/dockerfile:1
# Entente: the API (`serve`, the default), the webhook worker (`worker`) and the schema migration
# (`db upgrade`) from one image. Build: docker build -t entente:local .

# ---- builder: a virtual environment with Entente and its dependencies (all from wheels) ----
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY service ./service
# Editable on purpose, from the /app the final image keeps: service/migrate.py finds alembic.ini
# and migrations/ beside the package, and the web client's templates, static files and catalogs
# are not package data in pyproject.toml, so a wheel would ship without them.
RUN pip install --no-cache-dir --constraint requirements.lock --editable '.[otel]' \
    && python -m compileall -q --invalidation-mode checked-hash service

# ---- runtime: the same base, the venv and the code; no compiler, no pip run, no root ----
FROM python:3.11-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Entente" \
      org.opencontainers.image.description="End-use assurances, consultations and decision notices between an export licensing authority and its counterpart ministry, with a tamper-evident audit trail." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENTENTE_DATA_DIR=/var/lib/entente

# A fixed UID/GID so volume and Kubernetes fsGroup permissions can be planned for.
RUN groupadd --system --gid 10001 entente \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin entente \
    && install --directory --owner=10001 --group=10001 --mode=0700 /var/lib/entente

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/service /app/service
COPY alembic.ini /app/alembic.ini
COPY migrations /app/migrations

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# Liveness of `serve`; the worker's own health endpoint is on its metrics port (see deploy/).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["entente"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
