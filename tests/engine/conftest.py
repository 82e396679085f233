"""Fixtures for the QUEUE engine acceptance tests.

The servers themselves (`q4m_server`, `crash_server`, `conn`, `connect`, `fresh_queue`) come from
tests/conftest.py. This file only adds table factories that give every test its own, uniquely named
tables and drop them afterwards.
"""

from __future__ import annotations

import contextlib

import pytest

from .engine_helpers import execute, unique_name


def _hint(request) -> str:
    return request.node.name.replace("test_", "", 1)


@pytest.fixture
def make_queue(q4m_server, fresh_queue, request):
    """make_queue(columns_sql="id INT NOT NULL, v VARCHAR(64)") -> name of a new, empty
    QUEUE table."""
    created = []

    def make(columns_sql: str = "id INT NOT NULL, v VARCHAR(64)", hint: str | None = None) -> str:
        name = unique_name(hint or _hint(request))
        fresh_queue(name, columns_sql)
        created.append(name)
        return name

    yield make
    _drop_all(q4m_server, created)


@pytest.fixture
def make_innodb(q4m_server, request):
    """make_innodb(columns_sql) -> name of a new, empty InnoDB table."""
    created = []

    def make(
        columns_sql: str = "id INT NOT NULL PRIMARY KEY, v VARCHAR(64)", hint: str | None = None
    ) -> str:
        name = unique_name((hint or _hint(request)) + "_inno")
        c = q4m_server.connect()
        try:
            execute(c, f"DROP TABLE IF EXISTS {name}")
            execute(c, f"CREATE TABLE {name} ({columns_sql}) ENGINE=InnoDB")
        finally:
            c.close()
        created.append(name)
        return name

    yield make
    _drop_all(q4m_server, created)


@pytest.fixture
def other_db(q4m_server, request):
    """A second, empty database on the session server (dropped afterwards)."""
    name = unique_name("db_" + _hint(request))
    c = q4m_server.connect()
    try:
        execute(c, f"CREATE DATABASE {name}")
    finally:
        c.close()
    yield name
    c = q4m_server.connect()
    try:
        execute(c, f"DROP DATABASE IF EXISTS {name}")
    finally:
        c.close()


def _drop_all(server, names) -> None:
    if not names:
        return
    try:
        c = server.connect()
    except Exception:  # server gone: the test that killed it has already failed
        return
    try:
        for name in names:
            with contextlib.suppress(Exception):
                execute(c, f"DROP TABLE IF EXISTS {name}")
    finally:
        c.close()
