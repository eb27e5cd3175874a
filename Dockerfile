# The app image: the `trader` command (service, scheduler, CLI) on the locked dependencies.
#   docker build -t market-auto-trader .
#   docker run --env-file .env -p 8000:8000 market-auto-trader
# `docker compose up` (docker-compose.yml) runs it with PostgreSQL, the scheduler and the
# LangGraph Server; the README's "Running on a server (Docker)" says how.

# --- build: the virtual environment from uv.lock (no dev tools) -----------------------------
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
# Dependencies first: this layer is rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
# Then the project itself, installed (not editable) into the same environment.
COPY . .
RUN uv sync --frozen --no-dev --no-editable

# --- runtime: the environment and a user without privileges ---------------------------------
FROM python:3.11-slim
RUN groupadd --system trader \
    && useradd --system --gid trader --create-home --home-dir /home/trader trader \
    && mkdir -p /app/data /app/state \
    && chown trader:trader /app/data /app/state
COPY --from=build /opt/venv /opt/venv
# DATA_DIR: the SQLite default, the simulator's store, the KIS token cache; STATE_DIR: the
# real-account markers. docker-compose.yml keeps both on volumes.
ENV PATH="/opt/venv/bin:$PATH" \
    DATA_DIR=/app/data \
    STATE_DIR=/app/state \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER trader
EXPOSE 8000
# `trader serve` answers /api/health without a token (every other route needs one).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
ENTRYPOINT ["trader"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
