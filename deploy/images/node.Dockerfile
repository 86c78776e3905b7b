# local/node:20 — stands in for node:20-bookworm-slim where Docker Hub cannot be reached: the host's own
# Node 20 binary, npm and corepack on local/debian:bookworm. Context is made by build.sh.
FROM local/debian:bookworm
COPY usr/local/ /usr/local/
COPY certs/ /usr/local/share/ca-certificates/
# ca-certificates: npm ci inside image builds, and TLS to Temporal Cloud / YooKassa at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && ln -sf ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack \
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
