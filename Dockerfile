# Warroom: one image for web (uvicorn), worker and beat (Celery), and migrations.
#   docker build -t warroom .     then see docker-compose.yml and README.md ("docker compose up").
# Production settings come from the environment (README.md, "Production"); this image
# refuses to start without SECRET_KEY, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, DATABASE_URL
# and REDIS_URL.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
COPY warroom ./warroom
COPY deployments ./deployments
COPY checklists ./checklists
COPY notifications ./notifications
# Installed from the source tree (not editable): dependencies and our packages in the venv;
# the code itself runs from /app, where templates/ and static/ sit beside it.
RUN pip install .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=warroom.settings \
    WARROOM_ENV=production \
    WARROOM_VAR_DIR=/var/lib/warroom \
    PORT=8000
# A user of our own: nothing in the container runs as root.
RUN groupadd --system --gid 10001 warroom \
 && useradd --system --uid 10001 --gid warroom --home-dir /app --shell /usr/sbin/nologin warroom \
 && mkdir -p /var/lib/warroom \
 && chown warroom:warroom /var/lib/warroom
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root manage.py ./
COPY --chown=root:root warroom ./warroom
COPY --chown=root:root deployments ./deployments
COPY --chown=root:root checklists ./checklists
COPY --chown=root:root notifications ./notifications
COPY --chown=root:root templates ./templates
COPY --chown=root:root static ./static
USER warroom:warroom
VOLUME ["/var/lib/warroom"]
EXPOSE 8000
ENTRYPOINT ["python", "-m", "warroom.container"]
CMD ["web"]
# The web process's check; compose gives worker and beat their own (healthcheck worker|beat).
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-m", "warroom.container", "healthcheck", "web"]
