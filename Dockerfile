# syntax=docker/dockerfile:1
# The service's image: everything is installed while the image is built, nothing at start (a
# congress hall or a locked-down host may have no internet). Build: `docker compose build`.

# ---- build: a virtualenv with the project and its dependencies (wheels only, no compiler)
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/jipiao
RUN python -m venv /opt/venv
COPY pyproject.toml README.md LICENSE alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY ballots ./ballots
# Editable: the code stays in /opt/jipiao beside migrations/ and ballots/, which the app finds
# next to its package (app.db.MIGRATIONS_DIR, app.printing.layout.BALLOTS_DIR).
RUN /opt/venv/bin/pip install --only-binary=:all: --editable . \
    && rm -rf /opt/jipiao/ballots/out

# ---- run
FROM python:3.11-slim
# Printed papers and reports embed a Chinese font (app.printing.fonts). Not pinned to a version:
# Debian's security updates replace a pinned version, which would then fail to install.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home jipiao \
    && mkdir -p /data \
    && chown jipiao:jipiao /data \
    && chmod 0700 /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/jipiao /opt/jipiao
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    JIPIAO_DATA_DIR=/data \
    JIPIAO_HOST=0.0.0.0 \
    JIPIAO_PORT=8000
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('JIPIAO_PORT', '8000'), timeout=3)"]
# `jipiao serve` migrates the database (under a lock: replicas may start together), checks the
# keys against the ones the database knows, then serves.
CMD ["jipiao", "serve"]
