# gantry's five actions in one image: static binaries, a CA bundle, a non-root user, no shell.
#
#   From source (default):  docker build -t gantry .
#   From release binaries:  release/image.sh DIST_DIR ...   (what CI and the tests build: it lays
#                           out rootfs-<arch>/ in a context and builds with BINARIES=prebuilt)
#
# OCI labels come from ticgen's `labels` output (`--label` per line), as the release workflow does.
# Each action runs as `docker run IMAGE <action> [--input value...]` (the Docker actions'
# entrypoints are /usr/local/bin/<action>).
ARG BINARIES=source
ARG RUST_IMAGE=docker.io/library/rust:1-alpine

FROM ${RUST_IMAGE} AS build
RUN apk add --no-cache bash git musl-dev ca-certificates
WORKDIR /src
COPY . .
ARG SOURCE_DATE_EPOCH=0
RUN target="$(uname -m)-unknown-linux-musl" \
  && SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" release/build.sh "$target" /dist \
  && release/rootfs.sh /dist "$target" /rootfs /etc/ssl/certs/ca-certificates.crt

FROM scratch AS source
COPY --from=build /rootfs/ /

FROM scratch AS prebuilt
ARG TARGETARCH
COPY rootfs-${TARGETARCH}/ /

FROM ${BINARIES}
ENV PATH=/usr/local/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
CMD ["ticgen", "--help"]
