# blink2mqtt container image.
#   docker build -t blink2mqtt .
#   docker run -v "$PWD/config:/config" blink2mqtt
# /config must contain config.yaml. The Blink tokens and the media state are
# written there too, because the default token_file and seen_file paths are
# relative and the working directory is /config.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /usr/src/blink2mqtt
COPY pyproject.toml README.md ./
COPY blink2mqtt ./blink2mqtt
RUN pip install . \
    && rm -rf /usr/src/blink2mqtt

# A fixed UID and GID, so that a bind-mounted /config can be prepared with
# chown 1000:1000 on the host.
RUN groupadd --system --gid 1000 blink2mqtt \
    && useradd --system --uid 1000 --gid blink2mqtt --home-dir /config --no-create-home \
        --shell /usr/sbin/nologin blink2mqtt \
    && mkdir -p /config \
    && chown blink2mqtt:blink2mqtt /config

USER blink2mqtt
WORKDIR /config
VOLUME ["/config"]

# Healthy while the retained <base>/bridge/state on the broker is "online".
# The check gives the broker 10 s; Docker stops it after 20 s.
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["python", "-m", "blink2mqtt.healthcheck", "-c", "/config/config.yaml", "--timeout", "10", "--quiet"]

ENTRYPOINT ["blink2mqtt"]
CMD ["run", "-c", "/config/config.yaml"]
