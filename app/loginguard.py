"""Rate limit of failed logins (a wrong one-time code at ``POST /api/auth/login``).

A login code has about 59 bits (``app.auth.service.new_login_code``): guessing one is hopeless,
but only if the guesses are limited. Every failure is a row of ``login_failure`` (client address,
time) in the database, so the limits hold across uvicorn workers and across instances on one
database, and survive a restart. Within a sliding window
(``Settings.login_failure_window_seconds``, 5 minutes):

1. **Per client**: a client with ``login_failures_per_client`` (10) failures is answered 429
   ``too_many_login_failures`` until the oldest of them leaves the window (``Retry-After``).
   A client is its address (``request.client.host``); an IPv6 address counts as its /64 network
   (one host holds a whole /64). Behind a reverse proxy uvicorn takes the address from
   ``X-Forwarded-For`` when the proxy's address is trusted: 127.0.0.1 and ::1 are by default, a
   proxy elsewhere needs ``FORWARDED_ALLOW_IPS=<its address>`` in ``jipiao serve``'s environment
   (uvicorn's ``--forwarded-allow-ips``); else every tablet counts as the proxy.
2. **In total**: once ``login_failures_total`` (100) failures from all clients are in the window
   (guessing from many addresses), a client that has failed at least once in the window is
   refused; a client without a failure may still try. So a tablet in the hall that scans its
   correct code still logs in during an attack, and one mistyped code costs at most a wait of
   one window; the attacker gets one guess per fresh address per window.
3. **Ceiling**: at ten times the total (1000 failures in the window, from as many addresses:
   never an accident), every login is refused until the window has passed. Sessions already
   open and the admin token keep working; this bounds the table (rows older than the window are
   deleted as failures come in, so it never holds more than about the ceiling).

Every door that tells whether a code is pending counts: the login itself and the login QR
images (``/api/auth/login-qr.svg?code=``, ``.png``), whose 404 for an unknown code would otherwise
be a guessing oracle without a limit (``guarded``).

A successful login never counts, and a refused (429) attempt is not recorded: its code was never
checked. The check and the record run in the request's one transaction; two workers racing may
let a client exceed a limit by the number of requests in flight, never more.
"""

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from app import models
from app.errors import AppError, TooManyRequests
from app.models import utcnow
from app.settings import Settings

T = TypeVar("T")

CEILING_FACTOR = 10
_CLIENT_MAX = 64  # the column's width


def client_key(host: str | None) -> str:
    """What the limits count per: the IPv4 address, an IPv6 address's /64 network, or the raw
    host (the test client's ``testclient``)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:_CLIENT_MAX]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class Limits:
    per_client: int
    total: int
    window: timedelta

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            per_client=settings.login_failures_per_client,
            total=settings.login_failures_total,
            window=timedelta(seconds=settings.login_failure_window_seconds),
        )


def _times(session: Session, since: datetime, client: str | None, limit: int) -> list[datetime]:
    """The times of the newest ``limit`` failures since ``since`` (of ``client``, or of all),
    oldest first."""
    query = select(models.LoginFailure.failed_at).where(models.LoginFailure.failed_at > since)
    if client is not None:
        query = query.where(models.LoginFailure.client == client)
    newest = list(
        session.scalars(query.order_by(models.LoginFailure.failed_at.desc()).limit(limit))
    )
    return newest[::-1]


def _count(session: Session, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(models.LoginFailure)
            .where(models.LoginFailure.failed_at > since)
        )
        or 0
    )


def _refuse(until: datetime, now: datetime) -> TooManyRequests:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyRequests(
        "too_many_login_failures",
        f"登录码错误次数过多，请在 {minutes} 分钟（{seconds} 秒）后再试；"
        "如登录码确实无误，请向大会秘书处索取新的登录码",
        f"too many wrong login codes; try again in {seconds} s "
        "(if the code is right, ask the secretariat for a new one)",
        retry_after=seconds,
    )


def ensure_may_try(session: Session, *, client: str, limits: Limits, now: datetime) -> None:
    """429 ``too_many_login_failures`` (with the seconds to wait) if ``client`` may not try a
    login code now; see the module's text for the three limits."""
    since = now - limits.window
    own = _times(session, since, client, limits.per_client)
    if len(own) >= limits.per_client:
        # Allowed again once the oldest of the last ``per_client`` failures leaves the window.
        raise _refuse(own[0] + limits.window, now)
    total = _count(session, since)
    if total < limits.total:
        return
    ceiling = limits.total * CEILING_FACTOR
    if total >= ceiling:
        times = _times(session, since, None, ceiling)
        # Below the ceiling again once the oldest of the newest ``ceiling`` failures is gone.
        raise _refuse(times[0] + limits.window, now)
    if own:
        # Until this client's last failure leaves the window, or the total drops below the limit.
        times = _times(session, since, None, limits.total)
        raise _refuse(min(own[-1], times[0]) + limits.window, now)


def record_failure(session: Session, *, client: str, limits: Limits, now: datetime) -> None:
    """Record one failed login of ``client``, and delete the failures older than the window."""
    session.execute(
        delete(models.LoginFailure).where(models.LoginFailure.failed_at <= now - limits.window)
    )
    session.add(models.LoginFailure(client=client, failed_at=now))
    session.flush()


def guarded(
    factory: "sessionmaker[Session]",
    *,
    host: str | None,
    settings: Settings,
    attempt: Callable[[Session], T],
    wrong_codes: frozenset[str],
) -> T:
    """Run ``attempt`` (which checks a login code) in one transaction, if ``host`` may try now
    (else 429); an ``AppError`` whose code is in ``wrong_codes`` is recorded as a failure,
    committed, then raised. The caller's request has no other transaction (no ``SessionDep``):
    the refusal must not roll the record back."""
    client = client_key(host)
    limits = Limits.of(settings)
    refused: AppError | None = None
    with factory.begin() as session:
        now = utcnow()
        ensure_may_try(session, client=client, limits=limits, now=now)
        try:
            return attempt(session)
        except AppError as error:
            if error.code not in wrong_codes:
                raise
            refused = error
            record_failure(session, client=client, limits=limits, now=now)
    assert refused is not None  # the block returned or raised otherwise
    raise refused
