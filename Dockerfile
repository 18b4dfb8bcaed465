# NAPHS Planner: one image for the web server, the Celery worker and beat.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango and the fonts of every language of the product for the plan document (WeasyPrint): Noto for Latin, Cyrillic
# and Arabic, Noto CJK for Chinese, DejaVu as the fallback. gettext compiles the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-noto-core fonts-noto-cjk fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY naphs naphs
COPY planning planning
COPY stakeholders stakeholders
COPY costing costing
COPY monitoring monitoring
RUN pip install .
COPY . .

# A throw-away key: the settings refuse to load in production without a real one, and collectstatic signs nothing.
RUN DEBUG=false SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" ALLOWED_HOSTS=localhost VAR_DIR=/tmp/var MEDIA_ROOT=/tmp/media \
    python manage.py collectstatic --no-input \
    && python manage.py compilemessages \
    && useradd --create-home --uid 1000 naphs \
    && mkdir -p /data/media /data/var && chown -R naphs /data

USER naphs
ENV MEDIA_ROOT=/data/media VAR_DIR=/data/var
EXPOSE 8000
# Settings in gunicorn.conf.py (port 8000, WEB_CONCURRENCY workers); docker-compose.yml runs migrations first.
CMD ["gunicorn", "naphs.wsgi"]
