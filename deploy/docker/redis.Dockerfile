# Debian's redis-server with exactly the shared libraries ldd lists and the
# dynamic loader, for machines that cannot pull the official redis image.
# deploy/build-images.sh assembles rootfs/ from the host.
FROM scratch
COPY rootfs/ /
COPY probe /usr/local/bin/probe
COPY --chown=65532:65532 data /data
USER 65532:65532
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["/usr/bin/redis-server"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", "/data"]
