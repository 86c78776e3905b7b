# local/postgres:15 — stands in for the official postgres:15 image: Debian's postgresql-15 and an
# entrypoint that honours the same variables (POSTGRES_USER/PASSWORD/DB, PGDATA, /docker-entrypoint-initdb.d).
FROM local/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-client-15 gosu \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["bash", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
