"""PostgreSQL whose pooled connections are checked before a request gets one.

When the server drops connections (a restart, a failover, ``pg_terminate_backend``)
every idle one in the pool is dead at once. psycopg's own pool check (Django's
``CONN_HEALTH_CHECKS``) finds them one by one, pausing 1, 2, 4… seconds after each,
so a request could wait many seconds; without a check each dead connection costs a
failed request. Here the first dead connection found makes the pool check all its
idle ones (``ConnectionPool.check``): the dead are replaced at once, and the request
goes on with a fresh connection.
"""

from __future__ import annotations

import logging

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        pool = self.pool
        if pool is None:
            return connection
        for _ in range(pool.max_size + 1):
            try:
                ConnectionPool.check_connection(connection)
                return connection
            except psycopg.Error as exc:
                logger.warning("a pooled database connection was dead (%s); checking the rest", exc)
                pool.putconn(connection)  # the pool drops it and opens another
                pool.check()  # its idle neighbours most likely died with it
                connection = super().get_new_connection(conn_params)
        return connection
