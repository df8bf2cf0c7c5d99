# Clearway service image: slim Python, non-root, model built at image build time, data on a volume.
# fonts-wqy-microhei: the Chinese font the campaign reports (PDF, charts) embed.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YOLO_OFFLINE=1 \
    YOLO_CONFIG_DIR=/tmp/ultralytics \
    CLEARWAY_DATA_DIR=/data \
    CLEARWAY_MODELS_DIR=/app/models \
    CLEARWAY_WEB_COOKIE_SECURE=always

# Optional: point at a CPU-only PyTorch wheel index to keep the image small.
ARG PIP_EXTRA_INDEX_URL=""

RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgl1 fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 clearway

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
RUN pip install ${PIP_EXTRA_INDEX_URL:+--extra-index-url "$PIP_EXTRA_INDEX_URL"} ".[postgres]" \
    && clearway model install-default \
    && rm -rf /app/models/.cache \
    && mkdir -p /data \
    && chown -R clearway:clearway /data /app/models

USER 10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["clearway", "serve", "--host", "0.0.0.0", "--port", "8000"]
