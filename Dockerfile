# One image for both the web (gunicorn) and worker (celery) services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libgomp1: OpenMP runtime that XGBoost and scikit-learn load. Pango (with HarfBuzz) and the DejaVu fonts:
# what WeasyPrint lays the model dossier's PDF out with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Production defaults: DEBUG off (SECRET_KEY and ALLOWED_HOSTS must then come from the environment).
# The static files are collected into the image; with DEBUG off the web server refuses to start without them.
ENV DEBUG=0
RUN SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput
RUN useradd --create-home --uid 1000 npl \
    && mkdir -p /app/data /artifacts /uploads /app/staticfiles \
    && chown -R npl /app/data /artifacts /uploads /app/staticfiles
USER npl

EXPOSE 8000
CMD ["gunicorn", "nplsite.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
