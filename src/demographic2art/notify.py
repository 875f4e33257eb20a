"""Notifications when a long job ends, sent through apprise to any of its services.

apprise (mail, Slack, Matrix, webhooks with ``json://``/``jsons://``, Amazon SNS and
the rest) is an optional dependency: it is imported only when a job has ``--notify``
URLs, and its absence raises :class:`MissingDependencyError` before the job starts.
A notification that fails to send never changes the job's result: it is logged as
one warning line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import contextmanager

from .errors import InvalidValueError, UserError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install apprise"


class MissingDependencyError(UserError):
    """Raised when an optional package that an option needs is not installed."""


def _apprise():
    try:
        import apprise
    except ImportError as exc:
        raise MissingDependencyError(
            f"--notify needs the apprise package, which is not installed; install it with '{INSTALL_HINT}'"
        ) from exc
    return apprise


def _redact(url: str) -> str:
    """Return ``url`` without user, password or token, for log lines and messages."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rpartition("@")[2]
    return f"{scheme}://{host}/..." if rest else url


def check_notify_urls(urls: Sequence[str] | None) -> list[str]:
    """Return ``urls`` as a list after checking that apprise accepts each of them.

    Raises :class:`MissingDependencyError` when apprise is not installed and
    :class:`InvalidValueError` for a URL that no apprise service understands.
    """
    urls = [str(url).strip() for url in (urls or []) if str(url).strip()]
    if not urls:
        return []
    apprise = _apprise()
    for url in urls:
        # apprise logs its own ERROR line for an unknown URL; the InvalidValueError below replaces it.
        with _apprise_messages():
            accepted = apprise.Apprise().add(url)
        if not accepted:
            raise InvalidValueError(
                f"notification URL {_redact(url)!r} is not understood by apprise; "
                "use a service URL such as json://host:port/path, mailto://... or slack://..."
            )
    return urls


def send_notification(urls: Sequence[str], title: str, body: str, *, failed: bool = False) -> bool:
    """Send ``title`` and ``body`` to every URL; return whether all of them accepted it.

    Errors are logged as one warning line and never raised, so a notification
    problem cannot hide the result of the job that triggered it.
    """
    if not urls:
        return True
    try:
        apprise = _apprise()
        sender = apprise.Apprise()
        for url in urls:
            sender.add(url)
        kind = apprise.NotifyType.FAILURE if failed else apprise.NotifyType.SUCCESS
        with _apprise_messages() as messages:
            sent = bool(sender.notify(title=title, body=body, notify_type=kind))
    except Exception as exc:  # noqa: BLE001 - a notification must never fail the job
        logger.warning("notification %r was not sent: %s: %s", title, type(exc).__name__, exc)
        return False
    if not sent:
        targets = ", ".join(_redact(url) for url in urls)
        detail = f": {messages[0]}" if messages else ""
        logger.warning("notification %r was not accepted by every service (%s)%s", title, targets, detail)
    return sent


@contextmanager
def _apprise_messages():
    """Collect apprise's own warnings instead of logging them, so one failure gives one line."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(" ".join(record.getMessage().split()))

    apprise_logger = logging.getLogger("apprise")
    handler = Collect()
    previous = apprise_logger.propagate
    apprise_logger.addHandler(handler)
    apprise_logger.propagate = False
    try:
        yield messages
    finally:
        apprise_logger.removeHandler(handler)
        apprise_logger.propagate = previous
