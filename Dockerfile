# syntax=docker/dockerfile:1
#
# session-context worker image.
#
#   docker build -t session-context .
#   docker run --rm -p 8080:8080 \
#     -e REDIS_URL=redis://redis.example:6379/0 \
#     -e SESSION_CONTEXT_JWT_SECRET=<at least 32 bytes> session-context
#
# Build stage: the official Swift image on Debian 12 (bookworm), the same Debian release as the
# runtime stage, so libhiredis has the same soname (libhiredis.so.0.14) in both.
# The package's dependencies (Hummingbird, jwt-kit, swift-log, ...) need swift-tools-version
# 6.2, so the image must be Swift 6.2 or newer; 6.3 is what the project is developed with.
# Override with --build-arg SWIFT_IMAGE=swift:6.2-bookworm (must stay a bookworm image).
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build

# CHiredis is a system library target found through pkg-config. Package versions are not
# pinned: the image should get the release's security updates when it is rebuilt.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends libhiredis-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, in their own layer, so that a change to the sources does not fetch them
# again. Package.resolved is not committed; the pattern copies it when the context has one.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

# Package.swift declares test targets with paths under Tests/ (TestSupport has a custom path),
# and SwiftPM refuses to load a manifest whose target directories are missing, so the test
# sources come along although only the executable is built.
COPY Sources ./Sources
COPY Tests ./Tests

# --static-swift-stdlib links the Swift runtime and Foundation into the binary, so the
# runtime image needs no Swift libraries: only libhiredis, libstdc++ and glibc remain.
RUN swift build -c release --product session-context --static-swift-stdlib \
 && mkdir -p /staging \
 && cp "$(swift build -c release --show-bin-path)/session-context" /staging/ \
 && if [ -x /usr/libexec/swift/linux/swift-backtrace-static ]; then \
        cp /usr/libexec/swift/linux/swift-backtrace-static /staging/; \
    fi

FROM ${RUNTIME_IMAGE} AS runtime

# libhiredis0.14: the Redis protocol parser the binary links against; curl: the health check;
# tzdata: time zones for Foundation; libstdc++6: used by the statically linked Swift runtime.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
        libhiredis0.14 libstdc++6 ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin session-context

COPY --from=build /staging/ /usr/local/bin/

# Fail the build here, not at start-up, if a shared library is missing.
RUN ldd /usr/local/bin/session-context >/tmp/ldd.txt \
 && if grep 'not found' /tmp/ldd.txt; then exit 1; fi \
 && rm /tmp/ldd.txt \
 && session-context --help >/dev/null

# The numeric id of the session-context user, so that runtimes can tell it is not root.
USER 10001:10001

# Listen on every interface inside the container; everything else (REDIS_URL,
# SESSION_CONTEXT_JWT_SECRET, ...) comes from the environment at run time.
ENV SESSION_CONTEXT_HOST=0.0.0.0 \
    SESSION_CONTEXT_PORT=8080
# Symbolicated backtraces on a crash, without an interactive prompt.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static

EXPOSE 8080

# /health/ready is 200 only while Redis answers PING.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${SESSION_CONTEXT_PORT:-8080}/health/ready\" || exit 1"]

# The worker stops gracefully on SIGTERM (at most SESSION_CONTEXT_SHUTDOWN_TIMEOUT seconds,
# default 10): give `docker stop` a longer timeout than that (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["session-context"]
CMD ["serve"]
