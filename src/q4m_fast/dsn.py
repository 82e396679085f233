"""Connection strings: ``mysql://user:password@host:port/database?option=value``.

Parsed into keyword arguments for ``MySQLdb.connect``. Anything we do not understand is an error
(:class:`~q4m_fast.errors.DSNError`) rather than silently ignored, because a typo in a worker's DSN
otherwise shows up hours later as "connected to the wrong place".
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import DSNError

__all__ = ["parse_dsn", "redact_dsn"]

SCHEMES = ("mysql", "mariadb")
DEFAULT_PORT = 3306
DEFAULT_CHARSET = "utf8mb4"


def _seconds(name: str) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise DSNError(f"DSN option {name}={text!r} is not a whole number of seconds") from None
        if value <= 0:
            raise DSNError(f"DSN option {name}={text!r} must be positive")
        return value

    return convert


# option name in the DSN -> (keyword of MySQLdb.connect, conversion)
_OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "charset": ("charset", str),
    "unix_socket": ("unix_socket", str),
    "connect_timeout": ("connect_timeout", _seconds("connect_timeout")),
    "read_timeout": ("read_timeout", _seconds("read_timeout")),
    "write_timeout": ("write_timeout", _seconds("write_timeout")),
    "init_command": ("init_command", str),
    "ssl_mode": ("ssl_mode", str),
}
_SSL_OPTIONS = ("ssl_ca", "ssl_cert", "ssl_key", "ssl_capath", "ssl_cipher")


def parse_dsn(dsn: str) -> dict[str, Any]:
    """Keyword arguments for ``MySQLdb.connect`` (always with ``db`` and ``charset``)."""
    if not isinstance(dsn, str):
        raise DSNError(f"a DSN must be a string, not {type(dsn).__name__}")
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError as exc:  # urlsplit raises for a non-numeric or out-of-range port
        raise DSNError(f"malformed DSN {redact_dsn(dsn)!r}: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise DSNError(
            f"DSN {redact_dsn(dsn)!r} must start with mysql:// or mariadb://, "
            f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}"
        )
    if port == 0:
        raise DSNError(f"DSN {redact_dsn(dsn)!r}: port 0 is not a valid port")
    if parts.fragment:
        raise DSNError(f"DSN {redact_dsn(dsn)!r} has a #fragment, which means nothing here")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise DSNError(
            f"DSN {redact_dsn(dsn)!r} must name exactly one database: mysql://host:port/DATABASE"
        )
    kwargs: dict[str, Any] = {"db": database, "charset": DEFAULT_CHARSET}
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password is not None:
        kwargs["passwd"] = unquote(parts.password)
    if parts.hostname:
        kwargs["host"] = unquote(parts.hostname)
    kwargs["port"] = port or DEFAULT_PORT
    try:
        options = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise DSNError(f"DSN {redact_dsn(dsn)!r} has a malformed ?query") from None
    ssl: dict[str, str] = {}
    for name, value in options:
        if name in _SSL_OPTIONS:
            ssl[name[len("ssl_") :]] = value
        elif name in _OPTIONS:
            keyword, convert = _OPTIONS[name]
            kwargs[keyword] = convert(value)
        else:
            known = ", ".join(sorted([*_OPTIONS, *_SSL_OPTIONS]))
            raise DSNError(f"DSN {redact_dsn(dsn)!r}: unknown option {name!r} (known: {known})")
    if ssl:
        kwargs["ssl"] = ssl
    if "host" not in kwargs and "unix_socket" not in kwargs:
        raise DSNError(f"DSN {redact_dsn(dsn)!r} names neither a host nor ?unix_socket=")
    return kwargs


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ``***``, for messages and logs."""
    try:
        parts = urlsplit(dsn)
        if parts.password is None:
            return dsn
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=f"{user}:***@{host}").geturl()
    except ValueError:
        return "<unparsable DSN>"
