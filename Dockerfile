# syntax=docker/dockerfile:1
# The one citylead image: `citylead api`, `citylead worker`, `citylead dashboard` and
# `citylead migrate` (the Helm chart in helm/citylead runs each as its own pod).
#   docker build -t registry.example.com/citylead/citylead:0.1.0 .
# Stage 1 builds wheels of citylead and every runtime dependency (no test or dev extras);
# stage 2 installs them into a slim Python with no compiler, as a non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY tenants ./tenants
COPY provisioning ./provisioning
COPY dashboard ./dashboard
RUN pip wheel --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    CITYLEAD_HOME=/var/lib/citylead
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels citylead \
    && groupadd --system --gid 10001 citylead \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/citylead --no-create-home \
       --shell /usr/sbin/nologin citylead \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/citylead
WORKDIR /var/lib/citylead
USER 10001:10001
# api 8000, dashboard 8050, worker probes 8081
EXPOSE 8000 8050 8081
ENTRYPOINT ["citylead"]
CMD ["api", "--host", "0.0.0.0"]
