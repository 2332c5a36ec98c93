"""Import a list of people (CSV, see domain.people_csv) as accounts, all or nothing, and invite them.

New accounts have no password (users.NO_PASSWORD): each person sets their own through an invitation link,
emailed at once when the server sends email, or handed over by the admin. Teams the file names are matched
by name whatever the case, and created when new. An address that has an account already is a problem of
its line: the import adds people, it never changes anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from learnapp.domain import people_csv
from learnapp.extensions import db
from learnapp.models import Role, Team, User
from learnapp.services import notify, password_links
from learnapp.services.db import begin_write
from learnapp.services.users import NO_PASSWORD


@dataclass
class Report:
    path: str
    problems: list[str] = field(default_factory=list)  # "path:line: message"; any problem: nothing was written
    created: list[User] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def decode(data: bytes, path: str) -> str:
    """The text of an uploaded or read file: UTF-8, with or without the byte-order mark spreadsheets write."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start + 1}); save it as \"CSV UTF-8\"") from None


def import_people(text: str, path: str, *, default_timezone: str, now: datetime) -> Report:
    """Create an account for everyone the CSV lists, in one transaction; nothing at all if any line has a problem.

    Every problem is named in one answer, in line order: the lines that read well are checked against the
    database (an address with an account, a team name two teams could be) even when other lines did not."""
    report = Report(path)
    people, problems = people_csv.parse(text, default_timezone=default_timezone)
    if problems and not people:  # the file as a whole is wrong (columns, too many problems): nothing to look up
        report.problems = [p.where(path) for p in problems]
        return report
    begin_write()
    taken = {email for (email,) in db.session.execute(
        db.select(User.email).where(User.email.in_([p.email for p in people])))}
    problems += [people_csv.Problem(p.line, f"an account for {p.email} exists already") for p in people if p.email in taken]
    existing = list(db.session.scalars(db.select(Team)))
    teams: dict[str, Team] = {}  # by the name as the file writes it
    new: dict[str, Team] = {}  # new teams by lower-cased name: "North" and "north" in one file make one team
    for person in people:
        if person.team is None or person.team in teams:
            continue
        exact = [t for t in existing if t.name == person.team]
        alike = [t for t in existing if t.name.lower() == person.team.lower()]
        if exact or len(alike) == 1:  # the name as written, else the one team it matches whatever the case
            teams[person.team] = (exact or alike)[0]
        elif alike:
            problems.append(people_csv.Problem(person.line, f"team {person.team!r} could be any of "
                                               f"{', '.join(sorted(t.name for t in alike))}: write the name exactly as one of them"))
        elif person.team.lower() not in new and (close := _close_team(person.team, existing)):
            problems.append(people_csv.Problem(person.line, f"team {person.team!r} is not a team yet, and close to "
                                               f"{close}: correct it, or add the team under People first"))
        else:
            teams[person.team] = new.setdefault(person.team.lower(), Team(name=person.team))
    if problems:
        db.session.rollback()
        report.problems = [p.where(path) for p in sorted(problems, key=lambda p: p.line)]
        return report
    db.session.add_all(new.values())
    report.new_teams = [team.name for team in new.values()]
    for person in people:
        user = User(email=person.email, name=person.name, role=person.role, timezone=person.timezone,
                    password_hash=NO_PASSWORD, created_at=now)
        if person.team is not None:
            if person.role == Role.MANAGER.value:
                user.led_teams = [teams[person.team]]
            else:
                user.team = teams[person.team]
        db.session.add(user)
        report.created.append(user)
    try:
        db.session.commit()
    except IntegrityError:  # an address or team added by someone else since the check above
        db.session.rollback()
        report.created, report.new_teams = [], []
        report.problems = [f"{path}: someone added one of these people or teams meanwhile; nothing was imported, "
                           "import the file again"]
    return report


def similar_team(name: str, existing: list[Team]) -> str | None:
    """The name of a team ``name`` matches only whatever the case ("field sales north"), or is likely a typo of
    ("Field Sales Nrth"); None if none. For a name typed by hand, as ``flask users create --team`` takes it."""
    alike = [team.name for team in existing if team.name.lower() == name.lower()]
    return alike[0] if alike else _close_team(name, existing)


def _close_team(name: str, existing: list[Team]) -> str | None:
    """An existing team's name that ``name``, a new one, is likely a typo of ("Field Sales Nrth"); None if none is.

    A typo would make a team of its own with everyone on those lines in it, undone only by moving each of them.
    A team meant to be new and named like another is added under People first, then the file finds it."""
    names = {team.name.lower(): team.name for team in existing}
    close = [other for other in names if _one_slip(name.lower(), other) and not _a_series(name.lower(), other)]
    return names[min(close)] if close else None


def _one_slip(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with one slip of the keyboard: a letter missing, extra or wrong, or two side by side
    swapped. Names a whole word apart ("Sales West" and "Sales East", "Team Bern" and "Team Berlin") are two slips
    or more: real teams are named so."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    rest_a, rest_b = a[i:], b[i:]
    return (rest_a[1:] == rest_b[1:]  # one wrong
            or rest_a[1:] == rest_b or rest_a == rest_b[1:]  # one extra, one missing
            or (len(rest_a) >= 2 and rest_a[:2] == rest_b[1::-1] and rest_a[2:] == rest_b[2:]))  # two swapped


def _a_series(a: str, b: str) -> bool:
    """Names of one series, not a typo: "North 2" and "North 3", "Sales Team A" and "Sales Team B"."""
    def unnumbered(text: str) -> str:
        return " ".join(re.sub(r"\d+", " ", text).split())

    if re.search(r"\d", a + b) and unnumbered(a) == unnumbered(b):  # numbered: only the numbers differ
        return True
    *head_a, last_a = a.split() or [""]
    *head_b, last_b = b.split() or [""]
    return head_a == head_b and len(last_a) <= 2 and len(last_b) <= 2


@dataclass(frozen=True)
class Invitation:
    user: User
    sent: bool
    failure: str | None = None  # why the email was not sent (the relay's reply), if it was tried


def invite(people: list[User], *, by: User | None) -> list[Invitation]:
    """Email each person their invitation link, over one SMTP connection; what happened to each."""
    mails = [password_links.mail(user, password_links.INVITE, by=by) for user in people]
    failures = notify.send_batch(mails)
    return [Invitation(user, sent=i not in failures, failure=failures.get(i)) for i, user in enumerate(people)]
