"""Email: daily reminders to reps with due drills, the weekly digest to managers, unsubscribe links.

Every email is claimed first as a Notification row (person, kind, day or week), so running a job
twice, or in two processes, never sends anything twice. SMTP settings come from the environment.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from learnapp.extensions import db
from learnapp.models import Attempt, MemoryStateRow, Notification, Role, User
from learnapp.services.drill import drillable_skills, local_day, user_zone
from learnapp.services.vacations import on_vacation

SALT = "learnapp-unsubscribe"


class MailError(RuntimeError):
    """Some emails could not be sent; the message lists them."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    unsubscribe_url: str | None = None


def send(mail: Mail) -> None:
    """Send one email over SMTP (STARTTLS and login when configured)."""
    config = current_app.config
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], mail.to, mail.subject
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def unsubscribe_token(user: User) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).dumps(user.id)


def user_for_token(token: str) -> User | None:
    """The user a signed unsubscribe token names, or None for a forged or damaged token."""
    try:
        user_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).loads(token)
    except BadSignature:
        return None
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


def unsubscribe_url(user: User) -> str:
    return f"{current_app.config['BASE_URL']}/unsubscribe/{unsubscribe_token(user)}"


def _claim(user: User, kind: str, key: str, now: datetime) -> bool:
    db.session.add(Notification(user_id=user.id, kind=kind, run_key=key, sent_at=now))
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def _unclaim(user: User, kind: str, key: str) -> None:
    db.session.execute(db.delete(Notification).filter_by(user_id=user.id, kind=kind, run_key=key))
    db.session.commit()


def wants_reminder_now(user: User, now: datetime) -> bool:
    """Reminders on, a working day of theirs, and their chosen local time has come."""
    local = now.astimezone(user_zone(user))
    days = {int(d) for d in (user.reminder_days or "").split(",") if d.strip().isdigit()}
    hour, _, minute = (user.reminder_time or "09:00").partition(":")
    return user.reminders_on and local.weekday() in days and local.time() >= time(int(hour), int(minute or 0))


def has_due_drill(user: User, now: datetime) -> bool:
    """A started skill is due, or a skill is still new to the rep."""
    due = db.session.scalar(db.select(db.func.count()).select_from(MemoryStateRow)
                            .where(MemoryStateRow.user_id == user.id, MemoryStateRow.due <= now))
    started = db.session.scalar(db.select(db.func.count()).select_from(MemoryStateRow).where(MemoryStateRow.user_id == user.id))
    return bool(due) or started < len(drillable_skills())


def drilled_today(user: User, now: datetime) -> bool:
    local = now.astimezone(user_zone(user))
    midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    return db.session.scalar(db.select(db.func.count(Attempt.id)).where(Attempt.user_id == user.id,
                                                                         Attempt.answered_at >= midnight)) > 0


def send_reminders(now: datetime) -> str:
    """Remind every rep whose time has come, who has due drills and has not drilled today; once per local day."""
    sent, failed = 0, []
    for user in db.session.scalars(db.select(User).filter_by(role=Role.REP.value, active=True, reminders_on=True)):
        if not (wants_reminder_now(user, now) and has_due_drill(user, now) and not drilled_today(user, now)):
            continue
        if on_vacation(user.id, local_day(user, now)):
            continue
        key = local_day(user, now).isoformat()
        if not _claim(user, "reminder", key, now):
            continue
        try:
            send(reminder_mail(user))
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            _unclaim(user, "reminder", key)  # try again at the next run
            failed.append(f"{user.email}: {exc}")
    if failed:
        raise MailError(f"{sent} reminders sent, {len(failed)} failed: " + "; ".join(failed[:20]))
    return f"{sent} reminders sent"


def reminder_mail(user: User) -> Mail:
    base = current_app.config["BASE_URL"]
    body = (f"Hello {user.name},\n\nyour five-minute drill is ready: {base}/drill/\n\n"
            "A few skills are due today; answering them now keeps them from fading.\n\n"
            f"Change the time or the days of these reminders: {base}/settings\n"
            f"Stop these reminders with one click: {unsubscribe_url(user)}\n")
    return Mail(to=user.email, subject="Your five-minute drill is ready", body=body, unsubscribe_url=unsubscribe_url(user))


def send_digests(now: datetime) -> str:
    """The weekly digest to every manager: participation, retention trend, skills and reps at risk."""
    from learnapp.services.dashboard import DateRange, team_dashboard

    week = f"{now.isocalendar().year}-W{now.isocalendar().week:02d}"
    span = DateRange(now.date() - timedelta(days=7), now.date() - timedelta(days=1))
    sent, failed = 0, []
    for manager in db.session.scalars(db.select(User).filter_by(role=Role.MANAGER.value, active=True, reminders_on=True)):
        if not manager.led_teams or not _claim(manager, "digest", week, now):
            continue
        sections = [_digest_section(team_dashboard(team, span, now)) for team in sorted(manager.led_teams, key=lambda t: t.name)]
        body = (f"Hello {manager.name},\n\nyour teams' week ({span.start:%d %b} to {span.end:%d %b}):\n\n" + "\n\n".join(sections)
                + f"\n\nThe dashboards: {current_app.config['BASE_URL']}/team/\n"
                  f"Stop this digest with one click: {unsubscribe_url(manager)}\n")
        try:
            send(Mail(to=manager.email, subject=f"Weekly learnapp digest, {week}", body=body,
                      unsubscribe_url=unsubscribe_url(manager)))
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            _unclaim(manager, "digest", week)
            failed.append(f"{manager.email}: {exc}")
    if failed:
        raise MailError(f"{sent} digests sent, {len(failed)} failed: " + "; ".join(failed[:20]))
    return f"{sent} digests sent"


def _digest_section(board) -> str:
    drilled = sum(p.days_drilled for p in board.participation)
    possible = sum(p.working_days for p in board.participation) or 1
    weeks = [p for p in board.weekly if p.value is not None]
    trend = " -> ".join(f"{p.value * 100:.0f}%" for p in weeks[-3:]) or "no reviews yet"
    risky = ", ".join(f"{s.title} ({mean * 100:.0f}%)" for s, mean, _ in board.at_risk_skills[:5]) or "none"
    idle = ", ".join(u.name for u in board.inactive) or "none"
    return (f"{board.team.name}\n- participation: {drilled} of {possible} working days drilled ({drilled / possible * 100:.0f}%)\n"
            f"- true retention, last weeks: {trend}\n- skills at risk: {risky}\n- no drill in 7 working days: {idle}")
