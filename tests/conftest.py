"""Fixtures shared by all tests: private MariaDB servers with the QUEUE engine.

* `q4m_server`   one PrivateServer for the whole session (queue_sync ON; env
                 Q4M_TEST_SYNC=off turns it off, e.g. for quick local runs)
* `conn`         a fresh autocommit MySQLdb connection to it (database `test`)
* `connect`      factory: connect(**kw) -> another connection; all closed afterwards
* `crash_server` a separate PrivateServer per test, free to kill9() and start() again
* `fresh_queue`  factory: fresh_queue(name, columns) -> name of a new, empty QUEUE table

Engine tests live in tests/engine/, library tests in tests/library/; put fixtures that
only they need in a conftest.py there.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys

import pytest

# tests/ itself on sys.path whatever pytest's import mode, for the helper module
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from q4m_testserver import PrivateServer

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,63}")


def _session_sync() -> bool:
    value = os.environ.get("Q4M_TEST_SYNC", "on").strip().lower()
    if value in ("on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    raise pytest.UsageError(f"Q4M_TEST_SYNC must be on or off, not {value!r}")


@pytest.fixture(scope="session")
def q4m_server(tmp_path_factory):
    server = PrivateServer(datadir=tmp_path_factory.mktemp("q4m-server"), sync=_session_sync())
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _q4m_server_survives(request):
    """Blame a crash of the shared server on the test during which it happened, and
    restart it so that the rest of the session still means something."""
    if "q4m_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("q4m_server")
    if not server.running:
        server.start()
    yield
    if not server.running:
        tail = "\n".join(server.error_log().splitlines()[-40:])
        server.start()
        pytest.fail(f"the shared q4m_server died during this test; end of its error log:\n{tail}",
                    pytrace=False)


@pytest.fixture
def conn(q4m_server):
    c = q4m_server.connect()
    yield c
    _close(c)


@pytest.fixture
def connect(q4m_server):
    made = []

    def factory(**kw):
        c = q4m_server.connect(**kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        _close(c)


@pytest.fixture
def crash_server(tmp_path):
    """A private server of this test alone (the engine's own queue_sync default)."""
    server = PrivateServer(datadir=tmp_path / "crash-server", sync=None)
    server.start()
    yield server
    server.stop()


def _validated(name: str) -> str:
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def _columns_sql(columns) -> str:
    """Column definitions from a SQL string, a dict {name: type} or (name, type) pairs.
    Names are validated; definitions are SQL but may not end the statement or comment."""
    if isinstance(columns, str):
        sql = columns
    else:
        pairs = columns.items() if isinstance(columns, dict) else columns
        sql = ", ".join(f"`{_validated(n)}` {t}" for n, t in pairs)
    if not sql.strip() or re.search(r";|--|/\*|#", sql):
        raise ValueError(f"unacceptable column definitions: {sql!r}")
    return sql


@pytest.fixture
def fresh_queue(q4m_server):
    """fresh_queue("jobs", "id INT NOT NULL, v VARCHAR(64)") drops and creates test.jobs
    with ENGINE=QUEUE and returns "jobs"; the tables are dropped after the test."""
    created = []
    c = q4m_server.connect()

    def make(name: str, columns) -> str:
        table = _validated(name)
        cur = c.cursor()
        cur.execute(f"DROP TABLE IF EXISTS `{table}`")
        cur.execute(f"CREATE TABLE `{table}` ({_columns_sql(columns)}) ENGINE=QUEUE")
        cur.close()
        created.append(table)
        return table

    yield make
    _close(c)
    if not created:
        return
    try:
        c = q4m_server.connect()      # new: the server may have been restarted meanwhile
    except Exception:                 # server gone: the test that broke it has failed already
        return
    try:
        cur = c.cursor()
        for table in created:
            cur.execute(f"DROP TABLE IF EXISTS `{table}`")
    except Exception:
        pass
    finally:
        _close(c)


def _close(c) -> None:
    with contextlib.suppress(Exception):
        c.close()
