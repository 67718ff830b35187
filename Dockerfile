# Production image: gunicorn behind a proxy, static files by whitenoise, PostgreSQL by DATABASE_URL.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DEBUG=0 STATIC_ROOT=/app/staticfiles MEDIA_ROOT=/data/media IMPORT_UPLOAD_DIR=/data/uploads

WORKDIR /app
COPY pyproject.toml README.md ./
COPY studyapp ./studyapp
COPY cards ./cards
RUN pip install .
COPY . .

# collectstatic needs a key at build time only; the real one comes from the environment.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput -v0

# Card images (MEDIA_ROOT) and Anki packages waiting for the worker (IMPORT_UPLOAD_DIR): mount
# volumes here, shared by the web and worker containers.
RUN useradd --system --uid 10001 --home-dir /app studyapp && chown -R studyapp /app \
    && mkdir -p /data/media /data/uploads && chown studyapp /data/media /data/uploads
USER studyapp

EXPOSE 8000
# /healthz asked for as the first of ALLOWED_HOSTS (Django refuses other Host headers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python scripts/healthcheck.py

# Two cores: 3 workers × 2 threads, the best of docs/performance.md's benchmark runs.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py createcachetable && exec gunicorn studyapp.wsgi --bind 0.0.0.0:8000 --workers ${WEB_WORKERS:-3} --threads ${WEB_THREADS:-2} --access-logfile -"]
