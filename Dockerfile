# accountservice image: build with the full Node toolchain, run on a distroless Node runtime.
#
#   docker build -t accountservice .                      (with access to a registry)
#   deploy/docker/build-image.sh                          (here: no registry, local stand-ins)
#
# The runtime image has no shell, no package manager and no curl, which is why the HEALTHCHECK
# runs our own probe (/app/healthchecker.cjs, node: modules only) through node, the way the
# original article shipped a Go healthchecker binary next to the service.

# The defaults are the real public images; deploy/docker/make-base-images.sh builds look-alikes
# for machines that cannot pull and passes them in with --build-arg.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12

# ---------------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /build

# Manifests first: the dependency layer is reused until package*.json change. npm ci links the
# workspaces (packages/*), so their manifests must be there too; their sources come with src below.
COPY package.json package-lock.json ./
COPY packages/health-views/package.json ./packages/health-views/
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY packages ./packages
COPY healthchecker ./healthchecker
COPY launcher ./launcher
COPY scripts/bundle.mjs scripts/runtime-modules.mjs scripts/write-code-cache.mjs ./scripts/
RUN npm run build

# The bundle holds every JavaScript dependency but lmdb (a native addon): the runtime gets lmdb
# and what it needs (11 packages, about 21 MB), copied from what npm ci installed above.
RUN node scripts/runtime-modules.mjs /staging/app

# The runtime image has no shell to mkdir or chown with, so the volume's mount point is made
# here (with node, which both the real and the stand-in build images have) and copied over.
RUN node -e "require('node:fs').mkdirSync('/staging/data', { recursive: true })"

# ---------------------------------------------------------------------------------------------
# The V8 code cache of the bundle, written by one start of the service on a temp database
# (scripts/write-code-cache.mjs) with the runtime image's node, in a stage of its own so the
# script stays out of the image; its start-up log lines appear in the build output.
FROM ${RUNTIME_IMAGE} AS code-cache
WORKDIR /app
COPY --from=build /build/package.json ./package.json
COPY --from=build /staging/app/node_modules ./node_modules
COPY --from=build /build/dist/accountservice.cjs /build/dist/accountservice-bundle.cjs ./
COPY --from=build /build/scripts/write-code-cache.mjs /code-cache-script/write-code-cache.mjs
ENV LIBC=glibc
RUN ["/nodejs/bin/node", "/code-cache-script/write-code-cache.mjs", "/app"]

# ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
WORKDIR /app

# Only what runs: the launcher and the bundled service (one file: it starts in about half the time
# of ~400 modules), lmdb with its dependencies, and the probe. Files stay owned by root and
# read-only to the service user.
COPY --from=build /build/package.json ./package.json
COPY --from=build /staging/app/node_modules ./node_modules
COPY --from=build /build/dist/accountservice.cjs /build/dist/accountservice-bundle.cjs ./
COPY --from=build /build/dist/healthchecker/healthchecker.cjs ./healthchecker.cjs

# The database is the only thing the service writes, so the root filesystem can be read-only
# (docker run --read-only, Kubernetes readOnlyRootFilesystem) with /data a volume or tmpfs.
COPY --from=build --chown=65532:65532 /staging/data /data
VOLUME ["/data"]

# LIBC: lmdb's addon loader otherwise works out the C library at every start, and the image has no
# ldd to read it from, so it falls back to slower ways; distroless debian12 is glibc.
ENV NODE_ENV=production \
    PORT=6767 \
    DB_PATH=/data/accounts.mdb \
    LIBC=glibc

# The V8 code cache of the bundle, made in the stage above with this image's own node (V8 takes
# only data made by the same version with the same flags, so the build stage's is not copied).
# Owned by root, so it stays read-only to the service.
COPY --from=code-cache /app/code-cache ./code-cache

# 65532 is distroless' "nonroot" user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

EXPOSE 6767

# Exec form: there is no shell to run "CMD-SHELL" or "|| exit 1" (the probe already exits 1 on
# failure, and Docker treats any non-zero exit as unhealthy). The probe checks the aggregate
# /health view on the port above; keep -port in step with PORT if you change it.
# --start-period gives seeding and the first database check time before failures count.
HEALTHCHECK --interval=3s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/nodejs/bin/node", "/app/healthchecker.cjs", "-port=6767"]

# node is PID 1 and receives SIGTERM itself: the service drains (readiness 503), closes and
# exits 0. Absolute path because distroless has no shell to search PATH with.
ENTRYPOINT ["/nodejs/bin/node", "accountservice.cjs"]
