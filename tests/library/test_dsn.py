"""Connection strings."""

from __future__ import annotations

import pytest

from q4m_fast.dsn import parse_dsn, redact_dsn
from q4m_fast.errors import DSNError


def test_a_full_dsn_gives_every_connect_argument() -> None:
    assert parse_dsn("mysql://bob:s%40cret@db.example:3307/app?connect_timeout=5") == {
        "user": "bob",
        "passwd": "s@cret",
        "host": "db.example",
        "port": 3307,
        "db": "app",
        "charset": "utf8mb4",
        "connect_timeout": 5,
    }


def test_port_defaults_to_3306_and_mariadb_scheme_is_accepted() -> None:
    kwargs = parse_dsn("mariadb://root@localhost/test")
    assert (kwargs["port"], kwargs["host"], kwargs["db"]) == (3306, "localhost", "test")


def test_a_unix_socket_dsn_needs_no_host() -> None:
    kwargs = parse_dsn("mysql://root@/test?unix_socket=/run/mysqld/mysqld.sock")
    assert kwargs["unix_socket"] == "/run/mysqld/mysqld.sock" and "host" not in kwargs


@pytest.mark.parametrize(
    ("dsn", "cause"),
    [
        ("postgres://root@localhost/test", "must start with mysql://"),
        ("root@localhost/test", "must start with mysql://"),
        ("mysql://root@localhost:abc/test", "malformed DSN"),
        ("mysql://root@localhost:99999/test", "malformed DSN"),
        ("mysql://root@localhost:0/test", "port 0"),
        ("mysql://root@localhost", "must name exactly one database"),
        ("mysql://root@localhost/a/b", "must name exactly one database"),
        ("mysql://root@localhost/test?colour=blue", "unknown option 'colour'"),
        ("mysql://root@localhost/test?connect_timeout=soon", "not a whole number"),
        ("mysql://root@/test", "neither a host nor"),
    ],
)
def test_a_malformed_dsn_is_refused_with_its_cause(dsn: str, cause: str) -> None:
    with pytest.raises(DSNError, match=cause):
        parse_dsn(dsn)


def test_messages_never_show_the_password() -> None:
    with pytest.raises(DSNError) as caught:
        parse_dsn("mysql://bob:hunter2@localhost/test?bogus=1")
    assert "hunter2" not in str(caught.value)
    assert redact_dsn("mysql://bob:hunter2@h:1/d") == "mysql://bob:***@h:1/d"
