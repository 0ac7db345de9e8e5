# Production image: the app and its locked dependencies, run as an unprivileged user.
FROM python:3.12-slim AS build
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY backend ./backend
# pgserver only serves the private development cluster; production uses DATABASE_URL.
RUN uv sync --frozen --no-dev --no-editable --no-install-package pgserver

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin quartier
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY backend/migrations ./backend/migrations
COPY frontend ./frontend
ENV PATH=/opt/venv/bin:$PATH QUARTIER_ENV=production QUARTIER_HOST=0.0.0.0 QUARTIER_PORT=8000 \
    QUARTIER_LOG_FORMAT=json PYTHONUNBUFFERED=1
USER quartier
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"
CMD ["quartier", "serve", "--workers", "2"]
