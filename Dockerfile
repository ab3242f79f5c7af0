# Scorpio container image: the `scorpio` daemon (FUSE workspace mount + HTTP API on 2725) and the `antares` alias.
#
#   docker build -t scorpiofs .
#   docker run --device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor:unconfined \
#     -e SCORPIO_BASE_URL=http://mega.example:8000 -p 127.0.0.1:2725:2725 scorpiofs
#
# Keep this file simple (one instruction per line, RUN continuations with "\"): scripts/docker-steps.sh reads it
# and performs the same steps on a host without a Docker engine, which is how CI exercises it.

FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

# The runtime image has no git (it only serves the FUSE workspace and the API): `scorpio devserver`, the only
# command that runs git, has its own image (Dockerfile.dev).
#
# It runs as root on purpose: mounting FUSE inside a container needs CAP_SYS_ADMIN and /dev/fuse, which Docker
# grants to the container's root (a non-root user would need the setuid fusermount3 and still CAP_SYS_ADMIN in
# the bounding set, which gains nothing). Root here is the container's: keep the default user namespace
# remapping/seccomp profile, publish the API on 127.0.0.1 only, or set SCORPIO_HTTP_TOKEN.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fuse3 libfuse3-3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/ /usr/local/bin/
COPY --from=build /src/deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY --from=build /src/scorpio.toml.example /usr/local/share/scorpiofs/scorpio.toml.example
EXPOSE 2725
# Asks the daemon at the address it recorded (so it follows --http-addr), failing when /health is degraded.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/docker-entrypoint.sh", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["serve", "--http-addr", "0.0.0.0:2725", "--insecure-bind"]
