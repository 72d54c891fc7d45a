# nats-server built on the host from the nats-server Go module at the
# version pkg/go.mod pins (CGO_ENABLED=0), for machines that cannot pull the
# official nats image. Compose mounts the config and the TLS files.
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY probe /usr/local/bin/probe
COPY nats-server /usr/local/bin/nats-server
COPY --chown=65532:65532 data /data
USER 65532:65532
EXPOSE 4222 6222 8222
ENTRYPOINT ["/usr/local/bin/nats-server"]
CMD ["--config", "/etc/nats/nats.conf"]
