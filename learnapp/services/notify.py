"""Email: daily reminders to reps with due drills, the weekly digest to managers, unsubscribe links.

Every email is claimed first as a Notification row (person, kind, day or week), so running a job
twice, or in two processes, never sends anything twice. SMTP settings come from the environment;
without SMTP_HOST the jobs skip and claim nothing.

An email that fails for now (relay down, timeout, a 4xx reply) gives its claim back and the run
fails, so the next check tries it again. One the relay refuses for good (a 5xx reply: no such
mailbox, say; or a non-ASCII address a relay without SMTPUTF8 cannot take) keeps its claim, marked refused: the run fails that once, naming the address for the
admins to fix, and the next checks do not send it again.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from learnapp.domain.retention import first_day_in_team, recall_percent
from learnapp.extensions import db
from learnapp.jobs import Failed
from learnapp.models import Attempt, DrillSession, Notification, Presentation, Role, TeamMove, User
from learnapp.services.db import begin_write, commit
from learnapp.services.db import now as clock_now
from learnapp.services.drill import drillable_skills, fallen_due, local_day, plan_for, user_zone, zone_named
from learnapp.services.vacations import on_vacation

SALT = "learnapp-unsubscribe"
QUARTER_HOUR = 15  # minutes: the reminders job checks on every quarter hour, UTC
DEFAULT_REMINDER_TIME = time(9, 0)
SMTP_TIMEOUT = 30  # seconds the relay has to answer each step (connecting, each command, the message)


class MailError(Failed):
    """Some emails could not be sent; the message lists them (the run's detail: no traceback, which would say nothing more)."""


class AddressNotSupported(smtplib.SMTPNotSupportedError):
    """The relay cannot take the recipient's address: it has non-ASCII characters (josé@example.com) and the relay
    lacks SMTPUTF8 (RFC 6531), which smtplib finds before sending anything. Refused for good, as a 5xx reply: the same
    address goes to the same relay the same way at every try."""

    def __init__(self):
        super().__init__(NO_SMTPUTF8)


NON_ASCII_SETTINGS = ("the SMTP settings hold characters smtplib cannot send: SMTP_USER and SMTP_PASSWORD must be "
                      "ASCII, SMTP_HOST a valid host name")
NO_SMTPUTF8 = "the mail relay does not take addresses with non-ASCII characters (it lacks SMTPUTF8)"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    unsubscribe_url: str | None = None
    name: str = ""  # the recipient's name, for the To header


def _connect(config) -> smtplib.SMTP:
    """An SMTP connection: TLS from the start (SMTP_SSL, port 465) or upgraded (SMTP_STARTTLS), or plain.

    TLS checks the relay's certificate and name against the system's CAs, or SMTP_CA_FILE for a
    relay with a private CA: a relay that cannot prove who it is gets no password and no mail.
    """
    host, port = config["SMTP_HOST"], config["SMTP_PORT"]
    tls = config["SMTP_SSL"] or config["SMTP_STARTTLS"]
    context = ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None) if tls else None
    if config["SMTP_SSL"]:
        return smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    if config["SMTP_STARTTLS"]:
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def send(mail: Mail) -> None:
    """Send one email over SMTP (TLS and login when configured): smtplib's error (RelayUnreachable among them) or
    OSError when it fails."""
    with Relay() as relay:
        relay.send(mail)


class RelayUnreachable(smtplib.SMTPException):
    """No connection to the mail relay could be opened (refused, timed out, TLS or login refused, a login smtplib
    cannot send), or it stopped answering: its message says why. An SMTPException, so that whoever sends one email
    handles it as any failure of smtplib's (before, a login smtplib could not send escaped them: a 500)."""


class Relay:
    """One SMTP connection for many emails: opened for the first, kept for the next ones, closed by close().

    A connection costs a relay across a network a TLS handshake and a login, 100 ms or more: with one per email, the
    reminders of a company whose reps share a timezone (all due at 09:00) would not fit in their quarter hour
    (bench/jobs_scale.py). Before an email goes over a kept connection, a NOOP checks that the relay still holds it
    (relays close idle connections, some after so many messages); if not, a new one is opened, and nothing of the
    email went over the old one. A relay that refuses the sender with a 4xx reply on a kept connection (a limit of
    messages per connection) gets the email once more, on a new connection. A relay that stops answering (SMTP_TIMEOUT)
    counts as one that cannot be reached. Any other failure is the email's: the
    caller tries it again later or records the refusal, and a connection the failure may have broken is dropped.
    """

    def __init__(self) -> None:
        self.config, self.smtp = current_app.config, None

    def __enter__(self) -> "Relay":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def send(self, mail: Mail) -> None:
        kept = self.smtp is not None and self._alive()
        if not kept:
            self.close()
            try:
                self.smtp = _open(self.config)
            except Exception as exc:  # opening is about the relay and its settings, never about this email
                # any failure: smtplib's and the socket's, and one smtplib raises before asking the relay, such as a
                # UnicodeEncodeError for an SMTP_USER or SMTP_PASSWORD with non-ASCII characters (its login sends
                # ASCII only; raised as it was, it left the email's claim behind and the email was never sent). Its
                # reason is ours, not the codec's message, which quotes the password's character it could not
                # encode: the reason goes into the job history every admin reads
                reason = (NON_ASCII_SETTINGS if isinstance(exc, UnicodeError) else failure_line(exc))
                raise RelayUnreachable(reason) from exc
        try:
            _deliver(self.smtp, mail, self.config)
        except smtplib.SMTPSenderRefused as exc:
            if not (kept and 400 <= exc.smtp_code < 500):
                raise
            self.close()  # refused before anything of the email was sent: once more, on a new connection
            self.send(mail)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            self.close()
            if _timed_out(exc):
                # the relay took the connection but stopped answering: the next email would wait as long, each on a
                # new connection, so the run stops as when it cannot be reached (the emails go at the next check)
                raise RelayUnreachable(f"the mail relay stopped answering ({failure_line(exc)})") from exc
            raise

    def _alive(self) -> bool:
        try:
            return self.smtp.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _timed_out(exc: BaseException | None) -> bool:
    """Whether a failure was the relay not answering within SMTP_TIMEOUT (smtplib raises it as a lost connection)."""
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def send_batch(mails: list[Mail]) -> dict[int, str]:
    """Send several emails over one SMTP connection (Relay); why each one that failed did (by its index), on one line.

    A refused recipient fails its own email only. A lost connection is opened again for the next email; when the
    relay cannot be reached at all, every remaining email fails with that reason.
    """
    failures: dict[int, str] = {}
    with Relay() as relay:
        for i, mail in enumerate(mails):
            try:
                relay.send(mail)
            except RelayUnreachable as exc:
                failures.update({j: str(exc) for j in range(i, len(mails))})
                break
            except (smtplib.SMTPException, OSError) as exc:
                failures[i] = failure_line(exc)
    return failures


def _open(config) -> smtplib.SMTP:
    smtp = _connect(config)
    try:
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _deliver(smtp: smtplib.SMTP, mail: Mail, config) -> None:
    message = EmailMessage()
    # the name as the reader's mail program shows it; the header registry quotes and encodes it (RFC 2047)
    # (username and domain apart: addr_spec refuses a non-ASCII local part, which a relay with SMTPUTF8 takes)
    username, _, domain = mail.to.rpartition("@")
    message["From"] = config["MAIL_FROM"]
    message["To"] = Address(display_name=mail.name, username=username, domain=domain) if mail.name else mail.to
    message["Subject"] = mail.subject
    # RFC 5322 requires a Date; smtplib adds neither it nor a Message-ID, and relays need not either. The id's domain is
    # the sender's (make_msgid's default asks the resolver for this host's name at every email)
    message["Date"] = format_datetime(clock_now())
    message["Message-ID"] = make_msgid(domain=parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "learnapp")
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body)
    try:
        smtp.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:
        # about this recipient only when the sender's address is ASCII: a non-ASCII MAIL_FROM fails every email,
        # a setting to fix, so that stays a failure for now (tried again)
        if not mail.to.isascii() and parseaddr(config["MAIL_FROM"])[1].isascii():
            raise AddressNotSupported() from exc
        raise


def permanent_refusal(exc: BaseException) -> str | None:
    """The relay's reply when it refused an email for good (SMTP 5xx), or None when trying again may work.

    A 5xx reply says the same email will be refused again (RFC 5321): its recipient (no such mailbox),
    the message or its sender. 4xx replies, lost connections and timeouts pass. A refused greeting or
    login is not about this email but the relay's settings, fixed once for every email: tried again too.
    A recipient address with non-ASCII characters that the relay cannot take (no SMTPUTF8) is refused for good.
    """
    if isinstance(exc, AddressNotSupported):
        return str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        if replies and all(code >= 500 for code, _ in replies):
            return "; ".join(_reply_line(code, text) for code, text in replies)
        return None
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) and exc.smtp_code >= 500:
        return _reply_line(exc.smtp_code, exc.smtp_error)
    return None


def failure_line(exc: BaseException) -> str:
    """Why an email failed, on one line: the relay's reply ("450 4.2.1 mailbox busy") or the error's message
    ("[Errno 111] Connection refused"), not the repr of smtplib's dictionary of replies."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(_reply_line(code, text) for code, text in exc.recipients.values()) or "recipients refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_line(exc.smtp_code, exc.smtp_error)
    return " ".join(str(exc).split()) or type(exc).__name__


def _reply_line(code: int, text: bytes | str) -> str:
    """An SMTP reply on one line: "550 5.1.1 no such mailbox"."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())


# What an unsubscribe link stops: the recurring email it came with (reminders, the digest), or, in a one-off email (a
# password link, an invitation), every recurring email of its recipient. One setting, reminders_on, switches the
# recurring email of each role: reps get reminders, managers the digest, trainers and admins none.
REMINDER, DIGEST, ALL = "reminder", "digest", "all"
RECURRING = {Role.REP.value: REMINDER, Role.MANAGER.value: DIGEST}
RECURRING_WORDS = {REMINDER: "drill reminders", DIGEST: "weekly team digests"}


def recurring_kind(user: User) -> str | None:
    """The recurring email the user gets (REMINDER or DIGEST), or None: trainers and admins get none, nor does a
    manager who leads no team (send_digests passes them by; their digest starts with their first team)."""
    if user.role == Role.MANAGER.value and not user.led_teams:
        return None
    return RECURRING.get(user.role)


def unsubscribe_token(user: User, kind: str) -> str:
    if kind not in (REMINDER, DIGEST, ALL):
        raise ValueError(kind)
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).dumps([user.id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) of a signed unsubscribe token, or None for a forged or damaged one (no database read).

    A token of an email sent before links named their kind holds the id alone: it switched off every recurring
    email of its recipient, and still does (ALL)."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).loads(token)
    except BadSignature:
        return None
    if isinstance(data, int) and not isinstance(data, bool):
        return data, ALL
    if (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int) and not isinstance(data[0], bool)
            and data[1] in (REMINDER, DIGEST, ALL)):
        return data[0], data[1]
    return None


def user_id_for_token(token: str) -> int | None:
    """The id a signed unsubscribe token names, or None for a forged or damaged token (no database read)."""
    read = read_unsubscribe_token(token)
    return read[0] if read else None


def user_for_token(token: str) -> User | None:
    """The user a signed unsubscribe token names, or None for a forged or damaged token."""
    user_id = user_id_for_token(token)
    return db.session.get(User, user_id) if user_id is not None else None


def kind_for_token(token: str) -> str | None:
    read = read_unsubscribe_token(token)
    return read[1] if read else None


def unsubscribe_url(user: User, kind: str) -> str:
    return f"{current_app.config['BASE_URL']}/unsubscribe/{unsubscribe_token(user, kind)}"


def unsubscribe_stops(user: User, kind: str) -> bool:
    """Whether a link of ``kind`` stops something of ``user``'s: ALL always (none start either if their role changes),
    a reminder or digest link only while their role gets that email (a rep since made manager keeps the digest when
    opening an old reminder's link). A digest's link stops the digest of a manager who leads no team now (theirs was
    taken away): it would come again with their next team."""
    return kind == ALL or RECURRING.get(user.role) == kind


def unsubscribe(user: User, kind: str) -> bool:
    """Switch off what a link of ``kind`` stops (unsubscribe_stops), nothing else; whether it stopped anything.
    The caller commits."""
    if not unsubscribe_stops(user, kind):
        return False
    user.reminders_on = False
    return True


def _claim(user: User, kind: str, key: str, now: datetime) -> bool:
    """Claim one email for (person, kind, day or week); False if another run or process claimed it first.

    begin_write first: on SQLite the job has read before (users, drills), and upgrading that read
    transaction to a writer while the web app writes fails at once with "database is locked";
    BEGIN IMMEDIATE waits on busy_timeout instead. Loaded users are kept as read: the run decided
    on them already, and reading each one again after every claim would cost a query per rep.
    """
    begin_write(keep_loaded=True)
    db.session.add(Notification(user_id=user.id, kind=kind, run_key=key, sent_at=now))
    try:
        commit(keep_loaded=True)
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def _unclaim(user: User, kind: str, key: str) -> None:
    begin_write(keep_loaded=True)
    db.session.execute(db.delete(Notification).filter_by(user_id=user.id, kind=kind, run_key=key))
    commit(keep_loaded=True)


def _mark_refused(user: User, kind: str, key: str, reply: str) -> None:
    """Keep the claim with the relay's refusal: the email is not tried again."""
    begin_write(keep_loaded=True)
    db.session.execute(db.update(Notification).filter_by(user_id=user.id, kind=kind, run_key=key).values(refused=reply))
    commit(keep_loaded=True)


def counted(n: int, noun: str) -> str:
    """A count with its noun as a reader writes it: "1 reminder", "0 reminders", "2 digests"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass
class _Sending:
    """One run's claimed emails, over one SMTP connection (Relay): sent, failed for now (claim given back), refused
    for good (claim kept). Once the relay cannot be reached, ``stopped`` tells the run to claim no more: the emails
    still due go at the next check (before, each one tried a connection of its own, and with a relay that did not
    answer each waited the 30-second timeout: hours for a company's 09:00 reminders)."""

    what: str  # "reminder", "digest"
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the relay could not be reached
    cut_short: bool = False  # the run stopped there, with people left to look at
    relay: Relay = field(default_factory=Relay)

    def __enter__(self) -> "_Sending":
        return self

    def __exit__(self, *_exc) -> None:
        self.relay.close()

    def send(self, user: User, kind: str, key: str, mail: Mail) -> None:
        try:
            self.relay.send(mail)
            self.sent += 1
        except RelayUnreachable as exc:
            _unclaim(user, kind, key)  # try again at the next run
            self.failed.append(f"{user.email}: {exc}")
            self.stopped = str(exc)
        except (OSError, smtplib.SMTPException) as exc:
            reply = permanent_refusal(exc)
            if reply is None:
                _unclaim(user, kind, key)  # try again at the next run
                self.failed.append(f"{user.email}: {failure_line(exc)}")
            else:
                _mark_refused(user, kind, key, reply)  # sending it again would be refused again
                self.refused.append(f"{user.email}: {reply}")

    def outcome(self) -> str:
        """The run's detail; MailError when an email failed or was refused, so the admins see which."""
        detail = f"{counted(self.sent, self.what)} sent"
        if self.failed:
            detail += f", {len(self.failed)} failed: " + "; ".join(self.failed[:20])
        if self.cut_short:
            detail += (f". The mail relay could not be reached, so the run stopped there: any other {self.what} due "
                       "now goes at the next check")
        if self.refused:
            detail += (f"{'. ' if self.failed else ', '}{len(self.refused)} refused for good by the mail relay, "
                       "not tried again (check the address): " + "; ".join(self.refused[:20]))
        if self.failed or self.refused:
            raise MailError(detail)
        return detail


def _require_smtp() -> None:
    """Raise Skipped when no email can be sent (no SMTP host configured): the job tries again at its next check."""
    from learnapp.jobs import Skipped

    if not current_app.config.get("SMTP_HOST"):
        raise Skipped("no SMTP host configured (SMTP_HOST unset)")


def reminder_clock_time(user: User) -> time:
    """The rep's chosen local reminder time rounded down to the quarter hour (09:00 if unreadable)."""
    return quarter_hour_time(user.reminder_time)


def quarter_hour_time(text: str | None) -> time:
    """A stored reminder time "HH:MM" rounded down to the quarter hour; 09:00 if it is no time.

    The scheduler checks on the quarter hour, UTC, and every real UTC offset is a multiple of 15
    minutes, so a time between checks (an old stored 23:50) fires at the check before it (23:45)
    instead of after the day's last check, never.
    """
    hour, _, minute = (text or "").partition(":")
    try:
        chosen = time(int(hour), int(minute))
    except ValueError:
        chosen = DEFAULT_REMINDER_TIME
    return chosen.replace(minute=chosen.minute - chosen.minute % QUARTER_HOUR)


def reminder_instant(user: User, day: date) -> datetime:
    """The instant (UTC) of the rep's reminder for their local ``day``: that day at their rounded reminder time."""
    local = datetime.combine(day, reminder_clock_time(user), tzinfo=user_zone(user))
    return local.astimezone(timezone.utc)


def reminder_weekdays(user: User) -> set[int]:
    """The weekdays (Monday 0) the rep wants reminders on."""
    return {int(d) for d in (user.reminder_days or "").split(",") if d.strip().isdigit()}


REMINDER_CATCH_UP = timedelta(hours=6)  # a reminder later than this after its time is no longer sent
REMINDER_GAP = timedelta(hours=12)  # at most one reminder per rep in this long, whatever their timezone did


def wants_reminder_now(user: User, now: datetime) -> bool:
    """Reminders on, today is one of their reminder days, and today's reminder instant has come, not long ago.

    "Has come", not "is now": a run after the instant (the scheduler was down at 09:00 and checks
    again at 13:00) still reminds, up to REMINDER_CATCH_UP late; the claim keeps it to once. Turning
    reminders on in the evening does not send the morning's reminder then.
    """
    day = local_day(user, now)
    instant = reminder_instant(user, day)
    return bool(user.reminders_on) and day.weekday() in reminder_weekdays(user) and instant <= now < instant + REMINDER_CATCH_UP


def reminded_lately(user: User, now: datetime) -> bool:
    """A reminder went to the rep earlier on their local today, or within REMINDER_GAP.

    Today: a rep reminded in the morning who moves their reminder time to the evening has a new instant, which the
    claim does not stop, and would get the day's reminder twice. The gap: after a move to a timezone further west,
    the same morning's reminder would otherwise come again a few hours later, under the new zone's date (a date the
    rep lives again after crossing the date line westwards still gets its reminder, a day after the last one).
    """
    midnight = datetime.combine(local_day(user, now), time(0), tzinfo=user_zone(user)).astimezone(timezone.utc)
    return db.session.scalar(db.select(db.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.kind == "reminder",
        (Notification.sent_at > now - REMINDER_GAP) | (Notification.sent_at >= midnight))) > 0


def has_drill_to_do(user: User, now: datetime, skills: list[str] | None = None) -> set[str]:
    """What the rep's drill of their local today has to answer, as of today's reminder instant: the reasons of its
    unanswered items ("due", "new"), empty when nothing (so it reads as whether there is something). Optional
    practice the rep asked for and left unanswered ("extra") is not something to do: it brings no reminder.

    Today's drill is planned once, when the rep first opens it; from then on it is that plan: true
    while a planned slot is unanswered, or when skills fell due since it was planned (they join it when it is
    opened again: drill.join_fallen_due). Before that, the drill planner's own rule (plan_for) decides
    at the reminder instant, not at ``now``: the day's drill holds what falls due by the end of the
    day, so a skill due later in the day is announced at the chosen time rather than moving the
    reminder to its hour. ``skills`` is drillable_skills(), passed in by callers that ask for many reps.
    """
    day = local_day(user, now)
    session = db.session.scalars(db.select(DrillSession).filter_by(user_id=user.id, day=day)).first()
    if session is not None:
        answered = set(db.session.scalars(
            db.select(Presentation.position).join(Attempt, Attempt.presentation_id == Presentation.id)
            .where(Presentation.session_id == session.id)))
        # "extra": a round of optional practice the rep asked for ("practise more"), nothing the schedule asks of
        # them today; a reminder about it would say skills are due when none is, so it is not a drill to do
        left = {item.get("reason", "due") for slot, item in enumerate(session.plan)
                if slot not in answered} - {"extra"}
        # a drill opened just after midnight and left with nothing to answer: what fell due since joins it when
        # opened again (drill.join_fallen_due), so a skill due at 08:00 is announced at 09:00
        instant = max(reminder_instant(user, day), session.started_at)
        return left or ({"due"} if fallen_due(user, session, instant, skills) else set())
    # median_seconds None: the plan's length does not matter here, it always holds at least one item
    return {item.reason for item in plan_for(user, day, reminder_instant(user, day), median_seconds=None, skills=skills)}


def drilled_today(user: User, now: datetime) -> bool:
    """Whether the rep answered an item of today's drill (their local day). An item of yesterday's drill answered
    just after midnight (within drill.LATE_ANSWER_GRACE) counts on yesterday's: today's drill is still untouched."""
    return db.session.scalar(
        db.select(Attempt.id).join(Presentation, Presentation.id == Attempt.presentation_id)
        .join(DrillSession, DrillSession.id == Presentation.session_id)
        .where(DrillSession.user_id == user.id, DrillSession.day == local_day(user, now)).limit(1)) is not None


def send_reminders(now: datetime) -> str:
    """Remind every rep whose reminder instant of today has come, who has a drill to do and has not drilled today.

    Once per reminder instant (the Notification claim), at most once a local day and once in REMINDER_GAP. Without an SMTP host nothing is claimed
    and the run is recorded as skipped, so the reminders still go out once SMTP is configured. A reminder the relay
    refuses for good counts as the rep's reminder of that instant: it is not sent again.
    """
    _require_smtp()
    # a list, not a live result: each claim commits, and a cursor must not be read across commits
    users = db.session.scalars(db.select(User).filter_by(role=Role.REP.value, active=True, reminders_on=True)).all()
    skills = drillable_skills()
    with _Sending("reminder") as sending:
        for user in users:
            if sending.stopped:  # the relay cannot be reached: the rest go at the next check
                sending.cut_short = True
                break
            if not wants_reminder_now(user, now):
                continue
            day = local_day(user, now)
            if on_vacation(user.id, day) or drilled_today(user, now) or reminded_lately(user, now):
                continue
            to_do = has_drill_to_do(user, now, skills)
            if not to_do:
                continue
            # keyed by the reminder's instant, not the local date: a rep who changes timezone has new instants,
            # so a date the old zone already used cannot swallow the new zone's reminder
            key = reminder_instant(user, day).strftime("%Y-%m-%dT%H:%MZ")
            if not _claim(user, "reminder", key, now):
                continue
            sending.send(user, "reminder", key, reminder_mail(user, to_do))
        return sending.outcome()


NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def drill_length_text() -> str:
    """The length of a daily drill (LEARNAPP_SESSION_SECONDS) as an adjective: "five-minute" by default."""
    minutes = max(1, int(current_app.config["SESSION_SECONDS"] / 60 + 0.5))
    return f"{NUMBER_WORDS[minutes - 1] if minutes <= len(NUMBER_WORDS) else minutes}-minute"


def reminder_mail(user: User, reasons: set[str] = frozenset({"due"})) -> Mail:
    """The reminder; ``reasons`` what today's drill holds (has_drill_to_do): skills due again, or only new ones."""
    base, length = current_app.config["BASE_URL"], drill_length_text()
    why = ("A few skills are due today; answering them now keeps them from fading." if reasons - {"new"} else
           "It brings you new skills to learn; a few minutes now starts them off.")
    body = (f"Hello {user.name},\n\nyour {length} drill is ready: {base}/drill/\n\n"
            f"{why}\n\n"
            f"Change the time or the days of these reminders: {base}/settings\n"
            f"Stop these reminders (a page asks you to confirm): {unsubscribe_url(user, REMINDER)}\n")
    return Mail(to=user.email, subject=f"Your {length} drill is ready", body=body,
                unsubscribe_url=unsubscribe_url(user, REMINDER), name=user.name)


DIGEST_WEEKDAY, DIGEST_TIME = 0, time(6, 0)  # Monday 06:00 in each manager's own timezone
TREND_WEEKS = 3  # the digest's retention trend: true retention in each of the calendar weeks before the Monday


def digest_due(zone: ZoneInfo, at: datetime) -> datetime:
    """The latest Monday 06:00 in ``zone`` at or before ``at``, in UTC: when a manager there gets the week's digest."""
    local = at.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - DIGEST_WEEKDAY) % 7)
    due = datetime.combine(day, DIGEST_TIME, tzinfo=zone)
    if due > local:
        due = datetime.combine(day - timedelta(days=7), DIGEST_TIME, tzinfo=zone)
    return due.astimezone(timezone.utc)


def _digest_managers() -> list[User]:
    from sqlalchemy.orm import selectinload

    return db.session.scalars(db.select(User).filter_by(role=Role.MANAGER.value, active=True, reminders_on=True)
                              .options(selectinload(User.led_teams)).order_by(User.id)).all()


def digests_due(at: datetime) -> bool:
    """Whether a manager's Monday 06:00 has come without their digest of that week claimed yet."""
    return bool(_unsent_digests(_digest_managers(), at))


def _unsent_digests(managers: list[User], at: datetime) -> dict[int, tuple[datetime, str]]:
    """Each manager who leads a team and has not had the digest of their latest Monday: (that Monday 06:00 UTC, ISO week).

    Only about a week the manager and one of their teams were there for: the digest reports the seven days before the
    Monday, so none goes to a manager whose account was made after that week, nor about a week before any of their
    teams had anyone in it (a new install's first Monday reported the week before the import as "participation: no
    reps" to every manager). A team that had reps that week but nobody drilled still gets its digest.
    """
    latest: dict[int, tuple[datetime, str]] = {}
    began = _teams_began({team.id for manager in managers for team in manager.led_teams})
    for manager in managers:
        week = _digest_week(manager, at, began)
        if week is not None:
            latest[manager.id] = week
    if not latest:
        return {}
    claimed = {(user_id, key) for user_id, key in db.session.execute(db.select(Notification.user_id, Notification.run_key).where(
        Notification.kind == "digest", Notification.run_key.in_({week for _, week in latest.values()})))}
    return {user_id: (due, week) for user_id, (due, week) in latest.items() if (user_id, week) not in claimed}


def _digest_week(manager: User, at: datetime, began: dict[int, date]) -> tuple[datetime, str] | None:
    """The digest due to ``manager`` at ``at`` (their latest Monday 06:00 in UTC, and its ISO week), or None when
    none is (see _unsent_digests); ``began`` is _teams_began of their teams."""
    if not manager.led_teams:
        return None
    zone = user_zone(manager)
    due = digest_due(zone, at)
    monday = due.astimezone(zone).date()
    week_end = datetime.combine(monday, time(0), tzinfo=zone)  # the Monday's midnight
    # the reps' days, as the digest counts them: a team whose first rep's first day is the Monday had no one
    if manager.created_at >= week_end or not any(began.get(t.id, monday) < monday for t in manager.led_teams):
        return None
    return due, _week_of(monday)


def _teams_began(team_ids: set[int]) -> dict[int, date]:
    """The first day each team had a rep in it, in the rep's own days, as the dashboards count a rep's days in a team
    (retention.first_day_in_team, from their moves): of those who are reps or were (left_on), the day the account of
    one made in it was made, or the day of a first move into it; no day for one moved in and out on one day. A team
    that never had anyone is not in it: a team whose reps all left still began when they came."""
    if not team_ids:
        return {}
    began: dict[int, date] = {}

    def earlier(team_id: int, day: date) -> None:
        began[team_id] = min(began.get(team_id, day), day)

    def joined(created: datetime, zone_name: str | None) -> date:
        return created.astimezone(zone_named(zone_name)).date()

    counted = (User.role == Role.REP.value) | User.left_on.is_not(None)
    moved = db.select(TeamMove.id).where(TeamMove.user_id == User.id)
    for team_id, zone_name, created in db.session.execute(  # those made in the team and never moved: one row a timezone
            db.select(User.team_id, User.timezone, db.func.min(User.created_at))
            .where(User.team_id.in_(team_ids), counted, ~moved.exists())
            .group_by(User.team_id, User.timezone)):
        earlier(team_id, joined(created, zone_name))
    moves: dict[int, list[tuple[date, int | None, int | None]]] = {}  # everyone's moves, of those who moved in or out
    involved = db.select(TeamMove.user_id).where(TeamMove.from_team_id.in_(team_ids) | TeamMove.to_team_id.in_(team_ids))
    for user_id, day, from_team, to_team in db.session.execute(
            db.select(TeamMove.user_id, TeamMove.day, TeamMove.from_team_id, TeamMove.to_team_id)
            .where(TeamMove.user_id.in_(involved)).order_by(TeamMove.day, TeamMove.id)):
        moves.setdefault(user_id, []).append((day, from_team, to_team))
    if moves:
        for user_id, zone_name, created in db.session.execute(
                db.select(User.id, User.timezone, User.created_at).where(User.id.in_(list(moves)), counted)):
            their = moves[user_id]
            for team_id in {t for _, *teams in their for t in teams if t in team_ids}:
                day = first_day_in_team(their, team_id, joined(created, zone_name))
                if day is not None:
                    earlier(team_id, day)
    return began


def _week_of(day: date) -> str:
    return f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"


def send_digests(now: datetime) -> str:
    """The weekly digest to every manager whose Monday 06:00 has come: participation, retention trend, skills and reps at risk.

    Each manager gets the digest of the ISO week of their latest Monday, about the seven days before it,
    once (the Notification claim): sent late after downtime, it reports the same week. Without an SMTP
    host nothing is claimed and the run is recorded as skipped; the next check tries again, so the
    week's digest still goes out once SMTP is configured.
    """
    _require_smtp()
    managers = _digest_managers()
    unsent = _unsent_digests(managers, now)
    with _Sending("digest") as sending:
        for manager in managers:
            if sending.stopped:  # the relay cannot be reached: the rest go at the next check
                sending.cut_short = True
                break
            if manager.id not in unsent:
                continue
            due, week_name = unsent[manager.id]
            mail = digest_mail(manager, due)  # written before the claim: a dashboard that fails leaves no claim behind
            if not _claim(manager, "digest", week_name, now):
                continue
            sending.send(manager, "digest", week_name, mail)
        return sending.outcome()


def digest_mail(manager: User, due: datetime) -> Mail:
    """The weekly digest of the Monday 06:00 ``due`` (UTC) to ``manager``, about the seven days before it: one section
    per team they lead. What send_digests sends and what the digest page (team.digest) shows; it sends nothing."""
    from learnapp.services.dashboard import DateRange, team_dashboard

    teams = sorted(manager.led_teams, key=lambda t: t.name)
    monday = due.astimezone(user_zone(manager)).date()
    span = DateRange(monday - timedelta(days=7), monday - timedelta(days=1))
    # the trend over the weeks before: a dashboard of its own, as the week's would have one weekly point
    trend_span = DateRange(monday - timedelta(weeks=TREND_WEEKS), span.end)
    sections = [_digest_section(team_dashboard(team, span, due, today=monday),
                                team_dashboard(team, trend_span, due, today=monday).weekly, trend_span)
                for team in teams]
    whose = "your team's" if len(teams) == 1 else "your teams'"
    body = (f"Hello {manager.name},\n\n{whose} week, {days_text(span.start, span.end, weekdays=True)}:\n\n"
            + "\n\n".join(sections)
            + f"\n\nThe dashboards: {current_app.config['BASE_URL']}/team/\n"
              f"Stop this digest (a page asks you to confirm): {unsubscribe_url(manager, DIGEST)}\n")
    # named by the days it covers: the claim's ISO week is the Monday's, the week after the one reported
    subject = f"Weekly learnapp digest: {days_text(span.start, span.end)}"
    return Mail(to=manager.email, subject=subject, body=body, unsubscribe_url=unsubscribe_url(manager, DIGEST),
                name=manager.name)


@dataclass
class DigestPreview:
    """A manager's weekly digest as the job builds it (digest_mail), for the digest page: nothing is claimed or sent.

    ``due`` is the manager's latest Monday 06:00 (UTC), whose digest is shown; ``next_due`` the one after it.
    ``mail`` is None when no digest is due for that week (``status`` says why); ``status`` says whether it went.
    """

    manager: User
    due: datetime
    next_due: datetime
    mail: Mail | None
    status: str


def digest_preview(manager: User, now: datetime) -> DigestPreview:
    """The digest of ``manager``'s latest Monday 06:00 at or before ``now``, built by digest_mail from the data as it
    stands now, and whether it went (its Notification claim): the same email the job sends or has sent, read-only."""
    zone = user_zone(manager)
    due = digest_due(zone, now)
    monday = due.astimezone(zone).date()
    next_due = datetime.combine(monday + timedelta(days=7), DIGEST_TIME, tzinfo=zone).astimezone(timezone.utc)
    if not manager.led_teams:
        return DigestPreview(manager, due, next_due, None, "no digest: they lead no team")
    week = _digest_week(manager, now, _teams_began({t.id for t in manager.led_teams}))
    if week is None:
        return DigestPreview(manager, due, next_due, None, "no digest for that week: it ended before their account "
                             "was made or before any of their teams had a rep")
    claim = db.session.scalar(db.select(Notification).filter_by(user_id=manager.id, kind="digest", run_key=week[1]))
    if claim is not None and claim.refused:
        status = f"refused by the mail relay ({claim.refused}); not tried again this week"
    elif claim is not None:
        status = f"sent {claim.sent_at.astimezone(zone):%A %-d %b %Y, %H:%M} ({zone.key})"
    elif not manager.active:
        status = "not sent: the account is deactivated"
    elif not manager.reminders_on:
        status = "not sent: the weekly digest is switched off in their settings"
    elif not current_app.config.get("SMTP_HOST"):
        status = "not sent yet: no mail relay is configured (SMTP_HOST), so no email goes out"
    else:
        status = "not sent yet: it goes at the next check (every quarter of an hour)"
    return DigestPreview(manager, due, next_due, digest_mail(manager, due), status)


def days_text(start: date, end: date, *, weekdays: bool = False) -> str:
    """A range of days as a reader writes it: "2 to 8 Mar 2026", "23 Feb to 1 Mar 2026", "29 Dec 2025 to 4 Jan 2026"
    (with ``weekdays``: "Monday 2 to Sunday 8 Mar 2026"); month and year once when both ends share them."""
    first = f"{start.day}" if (start.month, start.year) == (end.month, end.year) else \
        f"{start.day} {start:%b}" if start.year == end.year else f"{start.day} {start:%b %Y}"
    if weekdays:
        return f"{start:%A} {first} to {end:%A} {end.day} {end:%b %Y}"
    return f"{first} to {end.day} {end:%b %Y}"


def participation_line(board) -> str:
    """The team's working days drilled out of working days due; vacation days are not due.

    Said plainly when nothing was due: a team without reps, or whose reps were all away.
    """
    if not board.participation:
        return "no reps"
    due = sum(p.working_days for p in board.participation)
    if not due:
        return "no working days due (everyone away)"
    drilled = sum(p.days_drilled for p in board.participation)
    return f"{drilled} of {due} working days drilled ({drilled / due * 100:.0f}%)"


def retention_trend(weekly: list, span) -> str:
    """True retention in each calendar week of ``span`` (whole weeks from a Monday, the manager's own), oldest first,
    one week a line named by its Monday: "  - week of 16 Feb: 76% of 25 first tries". The year is added to a week of
    another year than the span's end. "no reviews" when no week had any.

    A week without reviews says so rather than dropping out, which would make two weeks apart look consecutive; a
    bare "76% -> 80% -> 78%" left a manager guessing which week each figure was and what it measured.
    """
    by_week = {p.x: p for p in weekly if p.value is not None}
    weeks = [span.start + timedelta(weeks=n) for n in range(((span.end - span.start).days + 1) // 7)]
    if not any(week in by_week for week in weeks):
        return "no reviews"
    lines = []
    for week in weeks:
        name = f"{week.day} {week:%b}" + (f" {week.year}" if week.year != span.end.year else "")
        point = by_week.get(week)
        figure = "no reviews" if point is None else \
            f"{point.value * 100:.0f}% of {point.n} first {'try' if point.n == 1 else 'tries'}"
        lines.append(f"  - week of {name}: {figure}")
    return "\n".join(lines)


def _digest_section(board, weekly: list, trend_span) -> str:
    """One team's part of the digest: participation and idle reps over the past week (``board``'s range), true
    retention in each of the weeks of ``trend_span`` (``weekly``, a dashboard's weekly points over it), and the
    skills and reps at risk as of the digest's time."""
    if not board.reps and not board.participation:  # nobody in the team, now or during the week
        return f"{board.team.name}\n- no reps in this team during the week: nothing to report"
    trend = retention_trend(weekly, trend_span)
    trend = f" {trend}" if trend == "no reviews" else f"\n{trend}"  # the weeks one a line, under their heading
    risky = _risky_skills(board.at_risk_skills)
    idle = ", ".join(u.name for u in board.inactive) or "none"
    return (f"{board.team.name}\n- participation: {participation_line(board)}\n"
            f"- true retention, last {TREND_WEEKS} weeks (first tries right on skills learned earlier):{trend}\n"
            f"- skills at risk: {risky}\n- no drill in 7 working days: {idle}")


RISKY_SKILLS_SHOWN = 5


def _risky_skills(at_risk: list) -> str:
    """How many skills are at risk, then the first few, lowest team recall first, one a line (a mail program wraps
    a long line anywhere), and how many more the dashboard has."""
    if not at_risk:
        return "none"
    lines = [f"{len(at_risk)}"] + [f"  - {_risky_skill(s, mean, under)}" for s, mean, under in at_risk[:RISKY_SKILLS_SHOWN]]
    if len(at_risk) > RISKY_SKILLS_SHOWN:
        lines.append(f"  - and {len(at_risk) - RISKY_SKILLS_SHOWN} more on the dashboard")
    return "\n".join(lines)


def _risky_skill(skill, mean: float, under: list) -> str:
    """One skill at risk, with the percents the dashboard shows: "Title (team 72%; under 70%: Luca 69%, Ben 65%)"."""
    reps = ", ".join(f"{u.name} {recall_percent(r)}%" for u, r in under[:5]) + (f" and {len(under) - 5} more" if len(under) > 5 else "")
    return f"{skill.title} (team {recall_percent(mean)}%" + (f"; under 70%: {reps})" if reps else ")")
