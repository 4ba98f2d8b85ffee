"""Keep bearer tokens out of the server's logs.

Browser websocket clients that cannot use ``connection_init`` put the token in the URL
(``/graphql?token=…``), and uvicorn logs every request line and websocket handshake with its
query string: a week-long admin token in a log file that operators ship to log search. The
filter rewrites ``token=`` / ``access_token=`` values to ``[redacted]`` in uvicorn's access and
error loggers, in every worker process (installed when the app is built).
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"((?:^|[?&;])(?:access_)?token=)[^&;\s\"']*", re.IGNORECASE)
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
