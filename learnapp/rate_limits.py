"""The login limiter's keys that name an email address, and forgetting them when that person's data is erased.

The login and password-email limits (web/auth.py) count per address typed, under keys such as
``login:bo@example.com`` (the address itself, not a digest), for up to an hour, in the limiter's storage
(LEARNAPP_RATELIMIT_STORAGE). An erasure clears the person's address's keys; a change of address clears the old
one's (users.update_account), so none are left under an earlier address either.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_qualified_name

from learnapp.extensions import limiter


def login_key(email: str) -> str:
    """Logins to an account, counted per address typed, from browsers not known to it."""
    return "login:" + email


def known_device_key(email: str) -> str:
    """Logins to an account from a browser that logged in to it before (counted apart, see web/auth.py)."""
    return "known-" + login_key(email)


def forgot_key(email: str) -> str:
    """Password emails asked for an address."""
    return "forgot:" + email


def address_keys(email: str) -> list[str]:
    return [login_key(email), known_device_key(email), forgot_key(email)]


def forget_address(email: str) -> bool:
    """Clear the counts kept under an address's keys on every limited route, and nobody else's.

    Flask-Limiter's limiter.reset() would empty the whole storage, everyone's counts; this clears each limit's
    exact key as Flask-Limiter builds it (its own `flask limiter clear --key` does the same for one key), through
    the strategy's clear(). Only the storage this process reaches: with memory:// (the default) that is this
    process's own, and the other workers' and hosts' counts expire by themselves within the hour. True when
    cleared, False when the limiter is off or its storage could not be reached (logged; the counts expire as well).
    """
    if not (limiter.enabled and limiter.initialized):
        return False
    app = current_app._get_current_object()
    # the prefix Flask-Limiter puts before every key (RATELIMIT_KEY_PREFIX; kept on the extension once set)
    prefix = getattr(limiter, "_key_prefix", None) or app.config.get("RATELIMIT_KEY_PREFIX", "")
    keys = address_keys(email.strip().lower())
    try:
        # the limits a route is decorated with: only those have key functions of their own (the others count per
        # client address); read without a request, unlike Limiter.limit_manager.resolve_limits()
        for endpoint, view in app.view_functions.items():
            for limit in limiter.limit_manager.decorated_limits(get_qualified_name(view)):
                if callable(limit.scope):  # a scope computed from a request: none of ours
                    continue
                rules = app.url_map.iter_rules(endpoint) if limit.per_method else ()
                for method in {m for rule in rules for m in rule.methods or ()} or {None}:
                    scope = limit.scope_for(endpoint, method)
                    for key in keys:
                        limiter.limiter.clear(limit.limit, *([prefix] if prefix else []), key, scope)
    except Exception:  # the storage unreachable (Redis down): the erasure stands, the counts expire within the hour
        app.logger.warning("the login limiter's counts of an erased address could not be cleared", exc_info=True)
        return False
    return True
