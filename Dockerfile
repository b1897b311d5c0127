# syntax=docker/dockerfile:1
# The assistant's images, one target per role (docs/deploy.md):
#
#   docker build --target hub     -t service-recovery-hub .
#   docker build --target rasa    -t service-recovery-rasa .     # trains the model (~3 min, ~2 GiB RAM)
#   docker build --target actions -t service-recovery-actions .
#
# Bases pinned to exact tags (docs/deploy.md says how to pin their digests as well).
# Every final stage runs as an unprivileged user (uid 10001) over root-owned, read-only
# code, and nothing secret is built in: secrets come from the environment at run time.
# .dockerignore lets only what the images need into the build context.

# The chat widget's bundle, fetched as `make setup` fetches it (scripts/install_webchat.sh).
FROM node:22.12.0-bookworm-slim AS widget
WORKDIR /build
COPY scripts/install_webchat.sh scripts/
RUN scripts/install_webchat.sh

# What every role runs on: the pinned dependencies and the project's code.
FROM python:3.10.19-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    HOME=/home/app \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1
COPY requirements-runtime.txt requirements-hashed.txt constraints.txt /tmp/requirements/
RUN python -m venv /opt/venv \
    && pip install -r /tmp/requirements/requirements-runtime.txt -c /tmp/requirements/constraints.txt \
    && pip install --require-hashes --no-deps -r /tmp/requirements/requirements-hashed.txt \
    && rm -rf /tmp/requirements \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY config.yml domain.yml credentials.yml ./
COPY deploy/endpoints.yml deploy/healthcheck.py deploy/
COPY contract/ contract/
COPY nlu/ nlu/
COPY actions/ actions/
COPY bot/ bot/
COPY data/ data/

# The model, trained from the project's data as `make train` trains it.
FROM runtime AS train
RUN rasa train --fixed-model-name service-recovery --out /app/models

# Rasa: NLU and dialogue, reached by the hub only (port 5005). Its trackers and locks are
# in Redis: REDIS_HOST, REDIS_PORT, REDIS_DB and REDIS_PASSWORD (deploy/endpoints.yml).
FROM runtime AS rasa
COPY --from=train /app/models/service-recovery.tar.gz models/
USER 10001:10001
EXPOSE 5005
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "http://127.0.0.1:5005/"]
CMD ["rasa", "run", "--model", "models/service-recovery.tar.gz", "--port", "5005", "--interface", "0.0.0.0", \
     "--credentials", "credentials.yml", "--endpoints", "deploy/endpoints.yml"]

# The action server, called by Rasa only (port 5055); REDIS_URL names its Redis.
FROM runtime AS actions
# The help pages' e5 vectors, made once here rather than at every start (~20 s of CPU):
# actions/knowledge.py reads them from .cache/knowledge while the pages are these.
RUN python -m actions.knowledge build
USER 10001:10001
ENV SANIC_HOST=0.0.0.0
EXPOSE 5055
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "http://127.0.0.1:5055/health"]
CMD ["rasa", "run", "actions", "--actions", "actions", "--port", "5055"]

# The hub, the only public front door (port 8080): REDIS_URL, RASA_URL, ACTION_URL and the
# secrets (HUB_SECRET, SHOP_IDENTITY_SECRET, HUB_AGENTS, channel credentials) at run time.
FROM runtime AS hub
COPY --from=widget /build/bot/static/vendor/ bot/static/vendor/
USER 10001:10001
ENV HUB_HOST=0.0.0.0 \
    HUB_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "http://127.0.0.1:8080/health/live"]
CMD ["python", "-m", "bot"]
