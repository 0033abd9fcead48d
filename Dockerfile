# sentinel in a container. Build from the repository root:
#   docker build -t ftp-sentinel .
#   podman build -t ftp-sentinel .
# Run (docs/DEPLOY.md explains each mount; podman takes the same options):
#   docker run -d --name sentinel --restart unless-stopped \
#     --read-only --cap-drop ALL --security-opt no-new-privileges \
#     --group-add adm \
#     -v /etc/sentinel:/etc/sentinel:ro \
#     -v /var/log:/var/log:ro \
#     -v /srv/ftp:/srv/ftp:ro -v /srv/sftp:/srv/sftp:ro \
#     -v /etc/vsftpd.conf:/etc/vsftpd.conf:ro -v /etc/ssh/sshd_config:/etc/ssh/sshd_config:ro \
#     -v sentinel-state:/var/lib/sentinel \
#     -p 127.0.0.1:9817:9817 ftp-sentinel
# Forensics needs no configuration: docker run --rm -v /var/log:/logs:ro ftp-sentinel replay /logs/vsftpd.log
# In the container, metrics.listen must be 0.0.0.0:9817 (or :9817) for -p to reach it; the
# health check below connects to 127.0.0.1 inside the container, which that also serves.
#
# BASE: any Debian-like image with Python >= 3.11, its venv module, groupadd and useradd
# (the tests build it on a Debian 12 base made with mmdebstrap: tests/podman.py).
# PIP_OPTIONS: extra pip options, e.g. an offline build from a directory of wheels:
#   podman build -v "$PWD/wheels:/wheels:ro" --build-arg PIP_OPTIONS="--no-index --find-links /wheels" .
ARG BASE=python:3.11-slim
FROM ${BASE}
ARG PIP_OPTIONS=""

LABEL org.opencontainers.image.title="sentinel" \
      org.opencontainers.image.description="Security monitoring for file-exchange servers" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      org.opencontainers.image.source="https://github.com/ftp-sentinel/sentinel"

# No SENTINEL_CONFIG: `run` is given -c below; replay, scan and alerts run on built-in
# defaults unless a configuration is mounted at /etc/sentinel/sentinel.yaml.
ENV PATH=/opt/sentinel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SENTINEL_HEALTH_URL=http://127.0.0.1:9817/metrics

# A fixed non-root uid/gid, so that host directories can be granted to it (chown, ACLs).
RUN groupadd --system --gid 10001 sentinel \
 && useradd --system --uid 10001 --gid sentinel --home-dir /var/lib/sentinel \
        --shell /usr/sbin/nologin sentinel \
 && install -d -m 0700 -o sentinel -g sentinel /var/lib/sentinel \
 && install -d -m 0755 /etc/sentinel

# Its own virtual environment, whatever Python the base has; /usr/local/bin/sentinel is where
# the systemd unit expects it. pip and setuptools leave the environment once it is built.
COPY pyproject.toml README.md /src/
COPY sentinel /src/sentinel
RUN python3 -m venv /opt/sentinel \
 && /opt/sentinel/bin/pip install --no-cache-dir $PIP_OPTIONS /src \
 && /opt/sentinel/bin/pip uninstall --yes --quiet pip setuptools \
 && ln -s /opt/sentinel/bin/sentinel /usr/local/bin/sentinel \
 && rm -rf /src \
 && sentinel --version

WORKDIR /var/lib/sentinel
USER 10001:10001
VOLUME ["/var/lib/sentinel"]
EXPOSE 9817

# No curl in the image: ask the metrics endpoint with Python. Any HTTP answer, 401 included
# (metrics.basic_auth), means the daemon is alive; TLS is accepted unverified since this
# only checks liveness over loopback. Set SENTINEL_HEALTH_URL for another listen address.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, ssl, sys, urllib.error, urllib.request\ntry:\n    urllib.request.urlopen(os.environ['SENTINEL_HEALTH_URL'], timeout=4, context=ssl._create_unverified_context())\nexcept urllib.error.HTTPError:\n    pass\nexcept OSError:\n    sys.exit(1)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["sentinel"]
CMD ["run", "-c", "/etc/sentinel/sentinel.yaml"]
