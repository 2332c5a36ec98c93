"""Links that let someone set their own password: an invitation to a new account, or a reset of a forgotten one.

A link carries a signed token: the account, what the link is for, and a digest of the account's password hash
and email address at the time (a new address ends the links sent to the old one). Setting a password replaces
the hash (a fresh salt every time), so a link works once; a newer link keeps working, an older one stops as
soon as any of them is used. A reset link lasts an hour, an invitation a week. A deactivated account can use
neither.

Accounts made without a password (an invitation, or a people import) hold users.NO_PASSWORD, a value no
password matches, until their owner sets one through a link.
"""

from __future__ import annotations

import atexit
import hashlib
import smtplib
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from learnapp.extensions import db
from learnapp.models import User
from learnapp.services import notify
from learnapp.services.db import begin_write, now
from learnapp.services.drill import user_zone
from learnapp.services.users import check_new_password, has_password, replace_password

SALT = "learnapp-password-link"
RESET, INVITE = "reset", "invite"
LIFETIME = {RESET: timedelta(hours=1), INVITE: timedelta(days=7)}


class LinkError(Exception):
    """A link that cannot set a password; the message is for the person who opened it."""


@dataclass(frozen=True)
class Link:
    user: User
    purpose: str  # RESET or INVITE
    mark: str  # the digest of the password hash and email address it was made for


class _ClockSigner(TimestampSigner):
    """Signs and checks ages on the app's clock (the tests' fixed clock too), not the machine's."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_ClockSigner)


def _mark(user: User) -> str:
    # the address too: a link emailed to an address since corrected (a typo, a reassigned mailbox) must die with it
    return hashlib.sha256(f"{user.password_hash}\n{user.email}".encode()).hexdigest()[:32]


def token(user: User, purpose: str) -> str:
    if purpose not in LIFETIME:
        raise ValueError(purpose)
    return _serializer().dumps([user.id, purpose, _mark(user)])


def url(user: User, purpose: str) -> str:
    """The link itself, on LEARNAPP_BASE_URL like every link in an email."""
    return f"{current_app.config['BASE_URL']}/password/{token(user, purpose)}"


def lifetime_text(purpose: str) -> str:
    return "an hour" if purpose == RESET else f"{LIFETIME[purpose].days} days"


def check(text: str) -> Link:
    """The account and purpose of a link's token; LinkError for an expired, used, damaged or foreign one."""
    try:
        (user_id, purpose, mark), signed = _serializer().loads(text, return_timestamp=True)
    except (BadSignature, ValueError, TypeError):
        raise LinkError(_INVALID) from None
    if purpose not in LIFETIME or not isinstance(user_id, int):
        raise LinkError(_INVALID)
    if now() - signed > LIFETIME[purpose]:
        raise LinkError(_EXPIRED)
    user = db.session.get(User, user_id)
    if user is None or not user.active or mark != _mark(user):
        raise LinkError(_INVALID)
    return Link(user, purpose, mark)


_EXPIRED = "This link has expired."
_INVALID = "This link does not work any more: it was used already, a newer password was set since, or the account is closed."


def mail(user: User, purpose: str, *, by: User | None = None) -> notify.Mail:
    """The email that carries a link: an invitation (from ``by``, an admin) or a reset someone asked for."""
    link = url(user, purpose)
    if purpose == INVITE:
        inviter = f"{by.name} ({by.email})" if by is not None else "Your administrator"
        if has_password(user):
            subject = "Set a new learnapp password"
            opening = f"{inviter} sent you a link to set a new password for your learnapp account."
        else:
            invited = f"{by.name} invited you" if by is not None else "You are invited"
            subject = f"{invited} to learnapp: set your password"
            opening = f"{inviter} made you a learnapp account: {_what_for(user)}"
        body = (f"Hello {user.name},\n\n{opening}\n\nSet your password here (the link works for "
                f"{lifetime_text(INVITE)}, once: {_until(user, INVITE)}):\n{link}\n\n"
                f"Setting it logs you in. From then on you log in with {user.email} and that password.\n")
    else:
        subject = "Set a new learnapp password"
        body = (f"Hello {user.name},\n\nSomeone, probably you, asked to set a new password for {user.email}.\n\n"
                f"Set it here (the link works for {lifetime_text(RESET)}, once: {_until(user, RESET)}):\n{link}\n\n"
                "If you did not ask, ignore this email: your password stays as it is.\n")
    body += _unsubscribe_line(user)
    # List-Unsubscribe (a mail program's Unsubscribe button) only where it stops something the recipient gets
    recurring = notify.recurring_kind(user) is not None
    return notify.Mail(to=user.email, subject=subject, body=body, name=user.name,
                       unsubscribe_url=notify.unsubscribe_url(user, notify.ALL) if recurring else None)


def _what_for(user: User) -> str:
    """What the invited person's account is for, by their role: a manager, a trainer or an admin told only of "a daily
    drill" did not learn what they were asked to do there."""
    return {
        "manager": "to follow your team's practice: retention week by week, who and which skill is at risk, and a weekly "
                   "digest by email.",
        "trainer": "to write the lessons and drill scenarios, preview them as a rep sees them and see which items work.",
        "admin": "to run it: people, teams and the background jobs.",
    }.get(user.role, f"a {notify.drill_length_text()} daily drill that keeps what you learned in training.")


def _until(user: User, purpose: str) -> str:
    """When a link made now stops working, in its recipient's own timezone: "until Mon 16 Mar 2026, 10:00 EDT". A week
    is long enough to lose count of, and a mail read late (or relayed slowly) says whether its link still works."""
    end = (now() + LIFETIME[purpose]).astimezone(user_zone(user))
    return f"until {end:%a} {end.day} {end:%b %Y}, {end:%H:%M %Z}"


def _unsubscribe_line(user: User) -> str:
    """The unsubscribe link of a one-off email: it stops every recurring email of its recipient.

    Nobody can unsubscribe from a password link they or an administrator asked for, and a person who unsubscribes
    from any learnapp email means "stop emailing me": so the link switches off what does come regularly (a rep's
    reminders, a manager's digest), and says which. Trainers and admins get nothing regularly: their line says so, and
    its link only keeps any from starting should their role change, so their email carries no List-Unsubscribe header,
    whose button would promise more.
    """
    link = notify.unsubscribe_url(user, notify.ALL)
    kind = notify.recurring_kind(user)
    if kind is None and user.role == "manager":  # leads no team yet: the digest starts with their first team
        return ("\nlearnapp sends you no regular emails yet: the weekly team digest starts once you lead a team. "
                f"To keep it from starting (a page asks you to confirm): {link}\n")
    if kind is None:
        return ("\nlearnapp sends you no regular emails, only links like this one when you or an administrator ask. "
                f"To make sure none start (a page asks you to confirm): {link}\n")
    what = "drill reminders" if kind == notify.REMINDER else "weekly team digest"
    return f"\nTo stop learnapp's {what} to you (a page asks you to confirm): {link}\n"


def set_password(link: Link, password: str) -> None:
    """Set the password a link is for (the password rule of users.check_new_password: a UserError, nothing changes).
    The new hash ends the link and every other link made before, and every login made with an old password.
    LinkError if the link was used meanwhile."""
    check_new_password(password)
    begin_write()
    user = db.session.scalars(db.select(User).filter_by(id=link.user.id).with_for_update()).one()  # locked (PostgreSQL)
    if _mark(user) != link.mark or not user.active:  # the same link used twice at once: the first one counts
        db.session.rollback()
        raise LinkError(_INVALID)
    replace_password(user, password, writing=True)


def send_later(user: User, purpose: str) -> None:
    """Email a link from a thread of its own: the request answers at once, as fast as for an address with no account
    (waiting for the relay here would tell who has one). A failure is logged; the person asks again."""
    app, message = current_app._get_current_object(), mail(user, purpose)

    def run() -> None:
        with app.app_context():
            try:
                notify.send(message)
            except (smtplib.SMTPException, OSError) as exc:
                app.logger.warning("password link email to %s not sent: %s", message.to, notify.failure_line(exc))

    thread = threading.Thread(target=run, name="learnapp-password-link-mail", daemon=True)
    with _LOCK:
        _SENDING[:] = [t for t in _SENDING if t.is_alive()] + [thread]
    thread.start()


_SENDING: list[threading.Thread] = []
_LOCK = threading.Lock()


def wait_for_sending(timeout: float = 10.0) -> None:
    """Wait until the links being emailed in the background are sent: the tests, and a worker that is stopping
    (below: a gunicorn worker leaves through sys.exit, so a graceful stop sends what it had begun)."""
    with _LOCK:
        threads = list(_SENDING)
    for thread in threads:
        thread.join(timeout)


atexit.register(wait_for_sending)


def mail_configured() -> bool:
    return bool(current_app.config["SMTP_HOST"])


def send(user: User, purpose: str, *, by: User | None = None) -> None:
    """Email a link now; the SMTP error (smtplib's, or OSError) is the caller's to report."""
    notify.send(mail(user, purpose, by=by))
