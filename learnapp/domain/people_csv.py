"""A list of people as CSV, read and checked line by line: the part of a people import that needs no database.

The first line names the columns, in any order and case: ``email`` and ``name`` are required, ``role``
(rep, trainer, manager or admin; empty: rep), ``team`` (a manager leads it, anyone else joins it) and
``timezone`` (an IANA name; empty: the importer's default) are optional. A file saved by a spreadsheet in a
locale that separates with semicolons is read as such. Every problem is reported with its line, and a file
with any problem imports nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

COLUMNS = ("email", "name", "role", "team", "timezone")
REQUIRED = ("email", "name")
ROLES = ("rep", "trainer", "manager", "admin")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # what every account's email must look like (services.users too)
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no email can reach a placeholder address


def placeholder_address(email: str) -> bool:
    """An address of the domain erased people's accounts are given (services.users.erase_person): nobody's. Taken by
    a new account, erased-N@erased.invalid would stop account N from ever being erased (addresses are unique)."""
    return email.strip().lower().endswith("@" + ERASED_DOMAIN)
MAX_EMAIL, MAX_NAME = 254, 120
MAX_PEOPLE = 5000
MAX_PROBLEMS = 100  # a file that is wrong throughout (another export, a shifted column) stops there: fix these first
# NUL (PostgreSQL text cannot hold it) and other control characters; line breaks and tabs are spaces, collapsed
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
# names the tz database has that are no place: the server's own zone and a placeholder (the settings page offers neither)
NOT_PLACES = {"localtime", "Factory", "posixrules"}


@dataclass(frozen=True)
class Person:
    line: int
    email: str
    name: str
    role: str
    team: str | None
    timezone: str


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the file as a whole
    message: str

    def where(self, path: str) -> str:
        return f"{path}:{self.line}: {self.message}" if self.line else f"{path}: {self.message}"


def valid_timezone(name: str) -> bool:
    if name in NOT_PLACES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _dialect(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def parse(text: str, *, default_timezone: str = "UTC") -> tuple[list[Person], list[Problem]]:
    """The people a CSV text lists, and the problems found; emails lower-cased, names' spaces collapsed."""
    if not text.strip():
        return [], [Problem(0, "the file is empty: its first line names the columns, e.g. email,name,role,team,timezone")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text.lstrip().splitlines()[0]))
    header: list[str] | None = None
    people: list[Person] = []
    problems: list[Problem] = []
    first_line_of: dict[str, int] = {}
    ended = 0  # the line the previous record ended on: a quoted value may span lines, a record is named by its first
    try:
        for row in reader:
            line, ended = ended + 1, reader.line_num
            if len(problems) >= MAX_PROBLEMS:
                problems.append(Problem(line, f"more than {MAX_PROBLEMS} problems: fix these first (is it the right file?)"))
                return [], problems
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                # a column without a name (a spreadsheet's trailing separators) is ignored while it stays empty
                unknown = [c for c in header if c and c not in COLUMNS]
                missing = [c for c in REQUIRED if c not in header]
                repeated = sorted({c for c in header if c and header.count(c) > 1})
                if unknown:
                    problems.append(Problem(line, f"unknown column {', '.join(repr(c) for c in unknown)}; the columns are "
                                                  + ", ".join(COLUMNS)))
                if missing:
                    problems.append(Problem(line, f"no {' or '.join(missing)} column: the first line names the columns, "
                                                  "e.g. email,name,role,team,timezone"))
                if repeated:
                    problems.append(Problem(line, f"column {', '.join(repeated)} named twice"))
                if problems:
                    return [], problems
                continue
            if len(row) > len(header):
                problems.append(Problem(line, f"{len(row)} values for {len(header)} columns (a comma inside a name needs "
                                              "the name in double quotes)"))
                continue
            unnamed = next(((i, row[i].strip()) for i, column in enumerate(header)
                            if not column and i < len(row) and row[i].strip()), None)
            if unnamed:
                problems.append(Problem(line, f"a value ({unnamed[1][:40]!r}) in column {unnamed[0] + 1}, which the first line "
                                              f"does not name: name the column ({', '.join(COLUMNS)}) or empty it"))
                continue
            values = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header) if column}
            person, found = _person(values, line, default_timezone)
            if found:
                problems.extend(found)
                continue
            if person.email in first_line_of:
                problems.append(Problem(line, f"{person.email} is listed already, on line {first_line_of[person.email]}"))
                continue
            first_line_of[person.email] = line
            people.append(person)
            if len(people) > MAX_PEOPLE:
                return [], [Problem(line, f"more than {MAX_PEOPLE} people: split the file")]
    except csv.Error as exc:
        problems.append(Problem(ended + 1, f"not readable as CSV ({exc})"))
    if header is None:
        problems.append(Problem(0, "the file has no lines with values"))
    elif not people and not problems:
        problems.append(Problem(0, "the file lists nobody: after the first line, one person per line"))
    return people, problems


def _person(values: dict[str, str], line: int, default_timezone: str) -> tuple[Person | None, list[Problem]]:
    """The person a line lists, or every problem of the line (not only its first: each fix costs an import)."""
    email = values["email"].lower()
    name = " ".join(values["name"].split())
    role = values.get("role", "").lower() or "rep"
    team = " ".join(values.get("team", "").split()) or None
    timezone = values.get("timezone", "") or default_timezone
    if any(CONTROL.search(value) for value in values.values()):
        return None, [Problem(line, "a control character (such as NUL) in a value: save the file again as plain CSV")]
    found: list[Problem] = []
    if not email:
        found.append(Problem(line, "no email"))
    elif not EMAIL.match(email) or len(email) > MAX_EMAIL:
        found.append(Problem(line, f"{email!r} is not an email address"))
    elif placeholder_address(email):
        found.append(Problem(line, f"{email!r} is no one's address: {ERASED_DOMAIN} is for erased accounts"))
    if not name:
        found.append(Problem(line, f"no name for {email}" if email else "no name"))
    elif len(name) > MAX_NAME:
        found.append(Problem(line, f"the name has more than {MAX_NAME} characters"))
    if role not in ROLES:
        found.append(Problem(line, f"unknown role {role!r} (one of: {', '.join(ROLES)})"))
    if team is not None and len(team) > MAX_NAME:
        found.append(Problem(line, f"the team name has more than {MAX_NAME} characters"))
    if not valid_timezone(timezone):
        found.append(Problem(line, f"unknown timezone {timezone!r} (an IANA name such as Europe/Berlin)"))
    if found:
        return None, found
    return Person(line, email, name, role, team, timezone), []
