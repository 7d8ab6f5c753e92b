"""The portal's production settings, with its login rate limits out of the way: the benchmark
replays one login POST from one address thousands of times to measure what a login costs
(PBKDF2 and the session), which the limits exist to refuse (bench/web.py)."""

from portal.settings import *  # noqa: F403

RATE_LIMITS = {
    "login": {"ip": "1000000/m", "email": "1000000/m"},
    "password_reset": {"ip": "10/h", "email": "3/h"},
}
