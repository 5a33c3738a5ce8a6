"""PINs, as both sides check them: salted scrypt hashes (``scrypt$n$r$p$salt_hex$hash_hex``), the
rule on a PIN's length, and the lockout counted by time.

The ERP keeps each person's PIN hash and checks a PIN when a station can reach it; it then hands
that station a *verifier* (a fresh hash of the same PIN, with its own salt) that expires, so a
station can sign that person in offline and a stolen station holds the hashes of nobody who never
signed in there. Both sides count wrong PINs with :func:`locked_for`, so a badge locks the same way
on a station offline and in the ERP.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

# scrypt's cost: 2**14 (16 MB, ~50 ms a try) in production. Tests and small machines may lower it
# with STATION_PIN_SCRYPT_N (the station) or [returns_station] pin_scrypt_n (the ERP); a hash keeps
# the cost it was made with, so verifying never depends on the setting.
DEFAULT_SCRYPT_N = 2**14
_R, _P = 8, 1

MIN_PIN = 4
MIN_SUPERVISOR_PIN = 6
MAX_PIN = 12
VERIFIER_DAYS = 14  # how long a station may sign a person in offline after the ERP checked them

MAX_PIN_TRIES = 5
PIN_LOCKOUT = timedelta(minutes=5)  # after MAX_PIN_TRIES wrong PINs; doubled by each one after
MAX_PIN_LOCKOUT = timedelta(hours=24)  # and wrong PINs older than this are forgotten

# What a lockout counts: a wrong PIN, and what starts the count again.
REFUSED = "sign-in refused"
CLEARS = ("signed in", "unlocked")


def scrypt_cost(environ: dict[str, str] | None = None) -> int:
    """The station's scrypt cost: STATION_PIN_SCRYPT_N (a power of two >= 2**4), else the default."""
    text = (environ if environ is not None else os.environ).get("STATION_PIN_SCRYPT_N", "")
    return valid_cost(int(text)) if text.strip().isdigit() else DEFAULT_SCRYPT_N


def valid_cost(n: int) -> int:
    """``n`` when it is a power of two from 16 up, else the default (a typo never weakens to 1)."""
    return n if n >= 16 and n & (n - 1) == 0 else DEFAULT_SCRYPT_N


def hash_pin(pin: str, *, salt: bytes | None = None, n: int | None = None) -> str:
    """A storable hash of ``pin`` with a fresh random salt (or ``salt``, for deterministic seeds),
    at scrypt cost ``n`` (default: :func:`scrypt_cost`)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    n = valid_cost(n) if n is not None else scrypt_cost()
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32)
    return f"scrypt${n}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored``; False for a wrong PIN or a malformed hash."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            pin.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest_hex) // 2,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def pin_problem(pin: str, roles: Iterable[str]) -> str | None:
    """What is wrong with ``pin`` for a person with ``roles``, in plain words; None when it will do.
    A PIN is digits only; a supervisor's has at least MIN_SUPERVISOR_PIN of them."""
    least = MIN_SUPERVISOR_PIN if "supervisor" in set(roles or ()) else MIN_PIN
    if not pin.isdigit() or not pin.isascii():
        return "a PIN is digits only"
    if len(pin) < least:
        who = "a supervisor's PIN" if least == MIN_SUPERVISOR_PIN else "a PIN"
        return f"{who} needs at least {least} digits ({len(pin)} given)"
    if len(pin) > MAX_PIN:
        return f"a PIN has at most {MAX_PIN} digits"
    return None


def new_pin(roles: Iterable[str]) -> str:
    """A random PIN long enough for ``roles`` (shown once to the person, never stored)."""
    digits = MIN_SUPERVISOR_PIN if "supervisor" in set(roles or ()) else MIN_PIN + 2
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def locked_for(events: Iterable[tuple[str, datetime]], now: datetime) -> timedelta | None:
    """How much longer a badge stays locked (None: not locked), from its sign-in ``events`` newest
    first as (what, when): the wrong PINs (:data:`REFUSED`) since the last sign-in or unlock
    (:data:`CLEARS`), within MAX_PIN_LOCKOUT. From MAX_PIN_TRIES on, the badge waits PIN_LOCKOUT
    from its last wrong PIN, doubled by each further one. Other events (tries while locked) are
    ignored, so they never push wrong PINs out of the count."""
    refused: list[datetime] = []
    for what, when in events:
        if now - when > MAX_PIN_LOCKOUT:
            break
        if what in CLEARS:
            break
        if what == REFUSED:
            refused.append(when)
    if len(refused) < MAX_PIN_TRIES:
        return None
    wait = min(PIN_LOCKOUT * 2 ** (len(refused) - MAX_PIN_TRIES), MAX_PIN_LOCKOUT)
    left = wait - (now - refused[0])
    return left if left > timedelta(0) else None
