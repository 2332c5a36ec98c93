"""Managers: the team dashboard, its charts and CSVs, and rep and skill detail pages."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from bisect import bisect_right
from datetime import date, datetime, timedelta
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from learnapp import charts
from learnapp.domain.retention import AT_RISK_PERCENT, at_risk, recall_percent
from learnapp.extensions import db
from learnapp.models import Skill, Team, User
from learnapp.models.user import WEEKDAYS
from learnapp.services import dashboard as dashboard_service
from learnapp.services import notify
from learnapp.services.db import now
from learnapp.services.progress import rep_progress
from learnapp.services.drill import local_day, user_zone
from learnapp.services.users import (WEEKDAY_NAMES, UserError, can_view_rep, next_working_days_day, set_working_days,
                                     visible_teams, weekday_span, working_days_bounds, working_days_history, working_weeks)
from learnapp.services.vacations import vacations_of
from learnapp.web import roles_required

bp = Blueprint("team", __name__, url_prefix="/team")
LEADERS = ("manager", "admin")
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"  # an SVG shown as <img> never runs scripts
RANGE_PAST = timedelta(days=5 * 365)  # how far back the dashboard's range may start
RANGE_AHEAD = timedelta(days=365)  # and how far ahead it may end (planned vacations)


bp.add_app_template_filter(weekday_span, "weekday_span")


@bp.get("/")
@roles_required(*LEADERS)
def index():
    """The teams the user leads (an admin: every team); a single team's dashboard at once, the list holding nothing
    more (its rep count is on the dashboard too)."""
    teams = visible_teams(current_user)
    if len(teams) == 1:
        return redirect(url_for("team.show", team_id=teams[0].id))
    return render_template("team/index.html", teams=teams)


def _team_or_404(team_id: int) -> Team:
    team = db.get_or_404(Team, team_id)
    if team not in visible_teams(current_user):
        abort(404)
    return team


def _board(team: Team) -> tuple[dashboard_service.Dashboard, str | None]:
    current = now()
    today = local_day(current_user, current)  # the manager's own day, as the default range's end
    span, warning = date_range(request.args.get("start"), request.args.get("end"), today)
    return dashboard_service.team_dashboard(team, span, current, today=today), warning


def date_range(start: str | None, end: str | None, today: date) -> tuple[dashboard_service.DateRange, str | None]:
    """The dashboard's range from query parameters; anything unusable falls back to the default with a message.

    Beyond DateRange.parse (malformed dates, start after end) the range must lie within RANGE_PAST
    before and RANGE_AHEAD after today: year 1 or year 9999 would overflow the date arithmetic.
    """
    span, warning = dashboard_service.DateRange.parse(start, end, today)
    earliest, latest = today - RANGE_PAST, today + RANGE_AHEAD
    if warning is None and not (earliest <= span.start and span.end <= latest):
        default, _ = dashboard_service.DateRange.parse(None, None, today)
        return default, (f"Dates must lie between {earliest:%d %b %Y} and {latest:%d %b %Y}; "
                         f"showing the last {dashboard_service.DEFAULT_WEEKS} weeks.")
    return span, warning


@bp.get("/<id:team_id>")
@roles_required(*LEADERS)
def show(team_id: int):
    board, warning = _board(_team_or_404(team_id))
    sort = request.args.get("sort", "rep")
    skills = _sorted_skills(board, request.args.get("skill_sort"))
    return render_template("team/dashboard.html", board=board, warning=warning, sort=sort, skills=skills,
                           heat=_heat_rows(board, _sorted_reps(board, sort), skills), heat_legend=heat_legend(),
                           at_risk_percent=AT_RISK_PERCENT, tables=TABLES, narrow_screen=charts.NARROW_SCREEN,
                           query=_range_query(board), typed={key: request.args.get(key, "") for key in ("start", "end")})


@bp.get("/digest", defaults={"user_id": None})
@bp.get("/digest/<id:user_id>")
@roles_required(*LEADERS)
def digest(user_id: int | None):
    """The weekly digest email as the job builds it (notify.digest_preview): a manager sees their own only, an admin
    any manager's, picked from a list at /team/digest, to check it works. Read-only: nothing is claimed or sent."""
    if user_id is None and current_user.role == "manager":
        user_id = current_user.id
    if user_id is None:
        managers = db.session.scalars(db.select(User).filter_by(role="manager").order_by(User.name, User.id)).all()
        return render_template("team/digest.html", preview=None, managers=managers)
    manager = db.session.get(User, user_id)
    if manager is None or manager.role != "manager" or (current_user.role != "admin" and manager.id != current_user.id):
        abort(404)
    preview = notify.digest_preview(manager, now())
    if manager.id != current_user.id and preview.mail is not None and preview.mail.unsubscribe_url:
        # an admin checking someone's digest reads it all but their unsubscribe link, which stops their email
        mail = preview.mail
        preview = dataclasses.replace(preview, mail=dataclasses.replace(
            mail, body=mail.body.replace(mail.unsubscribe_url, "(their own unsubscribe link)"), unsubscribe_url=None))
    zone = user_zone(manager)
    monday = preview.next_due.astimezone(zone).date()
    return render_template("team/digest.html", preview=preview, managers=None, zone=zone,
                           next_covers=notify.days_text(monday - timedelta(days=7), monday - timedelta(days=1)))


# The lower edges (whole percents) of the heat map's colour classes heat-1 .. heat-9; under 40 is heat-0.
# Finer above 70, where real recall lies (FSRS aims at 90%), so the whole dark-blue-to-yellow scale is used,
# and an edge at the at-risk line: every cell under 70 is in heat-0..heat-3, every other cell in heat-4..heat-9.
HEAT_EDGES = (40, 50, 60, AT_RISK_PERCENT, 75, 80, 85, 90, 95)


@bp.app_template_filter("recall_percent")
def recall_percent_text(value: float | None) -> str:
    """A predicted recall as shown everywhere: whole percent rounded down (retention.recall_percent)."""
    return "–" if value is None else f"{recall_percent(value)}%"


@bp.app_template_test("at_risk")
def is_at_risk(value: float | None) -> bool:
    return value is not None and at_risk(value)


@bp.app_template_filter("heat_class")
def heat_class(value: float | None) -> str:
    """The CSS class of a heat-map cell, from the number it shows, so equal numbers get equal colours."""
    return "heat-none" if value is None else f"heat-{bisect_right(HEAT_EDGES, recall_percent(value))}"


def heat_legend() -> list[tuple[str, int, str]]:
    """(CSS class, lowest number, the range of shown numbers) for each colour of the heat map, low to high."""
    lows = (0, *HEAT_EDGES)
    highs = (*(e - 1 for e in HEAT_EDGES), 100)
    return [(f"heat-{i}", low, f"{low}–{high}") for i, (low, high) in enumerate(zip(lows, highs))]


def _heat_rows(board, reps: list[User], skills: list[Skill]) -> list[tuple[User, list[tuple[str, str, bool]], float | None]]:
    """Per rep: (CSS class, text shown, at risk) per skill, and the rep's mean recall.

    A skill practised today (in the rep's own day) shows "today": right after any review FSRS puts its
    recall at 100%, which would read as mastery even after a wrong answer. The mean leaves it out.
    """
    rows = []
    for user in reps:
        recall, today = board.recall.get(user.id, {}), board.practised_today.get(user.id, set())
        cells = [("heat-today", "today", False) if s.id in today else
                 (heat_class(recall.get(s.id)), "–" if recall.get(s.id) is None else str(recall_percent(recall[s.id])),
                  is_at_risk(recall.get(s.id))) for s in skills]
        rows.append((user, cells, board.mean_recall_of_rep(user.id)))
    return rows


def _range_query(board) -> dict:
    return {"start": board.range.start.isoformat(), "end": board.range.end.isoformat()}


def _sorted_reps(board, sort: str) -> list[User]:
    if sort == "recall":
        return sorted(board.reps, key=lambda u: (board.mean_recall_of_rep(u.id) is None, board.mean_recall_of_rep(u.id) or 0))
    return board.reps


def _sorted_skills(board, sort: str | None) -> list[Skill]:
    if sort == "recall":
        return sorted(board.skills, key=lambda s: (board.mean_recall_of_skill(s.id) is None, board.mean_recall_of_skill(s.id) or 0))
    return board.skills


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _table_retention(board):
    header = ["week since learned", "team answers", "team share right", "organisation answers",
              "organisation share right", "one-day training (model)"]
    rows = [[t.x, t.n, _pct(t.value), o.n, _pct(o.value), _pct(r.value)]
            for t, o, r in zip(board.curve_team, board.curve_org, board.reference)]
    return header, rows


def _table_weekly(board):
    return ["week starting", "first reviews", "share right"], [[p.x.isoformat(), p.n, _pct(p.value)] for p in board.weekly]


def _table_recall(board):
    # skills are columns named by id: every other line is a rep's (a line of titles would read as a rep to a
    # spreadsheet or a script); at-risk.csv gives each skill's title beside its id
    header = ["rep"] + [s.id for s in board.skills]
    rows = [[u.name] + ["today" if s.id in board.practised_today.get(u.id, ()) else _pct(board.recall.get(u.id, {}).get(s.id))
                        for s in board.skills] for u in board.reps]
    return header, rows


def _table_participation(board):
    # the days are each rep's own, as on the page; the page's "(their today)" beside a last drill would be stale in a
    # saved file, so the file says the rep's timezone and their today when it was made: a last drill dated after the
    # manager's today is the rep's today (or yesterday) in a timezone ahead, not a day to come
    names = {u.id: u.name for u in board.people.values()}
    weekdays = {u.id: board.works[u.id] or weekday_span(WEEKDAYS) for u in board.people.values()}
    zones = {u.id: user_zone(u).key for u in board.people.values()}
    rows = [[names[p.user_id], p.days_drilled, p.working_days, f"{p.share:.4f}", f"{p.minutes_per_day:.2f}",
             p.last_day.isoformat() if p.last_day else "", p.counted_from.isoformat(), p.counted_until.isoformat(),
             weekdays[p.user_id], zones[p.user_id], board.rep_today[p.user_id].isoformat()]
            for p in board.participation]
    return ["rep", "days drilled", "working days", "share", "minutes per drilled day", "last drill (rep's own day)",
            "working days counted from", "working days counted until", "works", "rep's timezone",
            "rep's today at export"], rows


def _table_forecast(board):
    return (["days ahead", "recall if practice stops", "recall if practice goes on"],
            [[d, _pct(stop), _pct(go)] for d, stop, go in board.forecast])


def _table_calibration(board):
    return (["predicted from", "predicted to", "answers", "mean predicted", "share right"],
            [[f"{b.low:.1f}", f"{b.high:.1f}", b.n, _pct(b.predicted), _pct(b.actual)] for b in board.calibration])


def _table_at_risk(board):
    rows = [["skill", s.id, s.title, f"{mean:.4f}", len(under)] for s, mean, under in board.at_risk_skills]
    rows += [["rep", u.name, "", "", "no drill in the last 7 working days"] for u in board.inactive]
    return ["kind", "who or what", "title", "mean predicted recall", "reps under 70% / note"], rows


TABLES = {
    "retention": _table_retention, "weekly": _table_weekly, "recall": _table_recall,
    "participation": _table_participation, "forecast": _table_forecast, "calibration": _table_calibration,
    "at-risk": _table_at_risk,
}


@bp.get("/<id:team_id>/data/<name>.csv")
@roles_required(*LEADERS)
def data_csv(team_id: int, name: str):
    if name not in TABLES:
        abort(404)
    team = _team_or_404(team_id)
    board, _ = _board(team)
    header, rows = TABLES[name](board)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_spreadsheet_safe(v) for v in row] for row in rows)
    filename = f"{team.name.lower().replace(' ', '-')}-{name}-{board.range.start}-{board.range.end}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": attachment(filename)})


def _spreadsheet_safe(value):
    """A text cell that a spreadsheet would run as a formula (a rep named "=HYPERLINK(...)"), quoted to stay text.

    Numbers are left alone: only text starting with = + - @ or a tab or carriage return is prefixed with '.
    """
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def attachment(filename: str) -> str:
    """A Content-Disposition for a download: an ASCII filename, plus the full name as filename* when it differs.

    Header values must be Latin-1 (a team named in another script made the server drop the connection),
    and a quote or backslash in the name would end or escape the quoted filename (RFC 6266).
    """
    simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    simple = re.sub(r"[^A-Za-z0-9._]+", "-", simple).strip("-")
    if simple == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{simple}\"; filename*=UTF-8''{quote(filename, safe='')}"


CHARTS = ("retention", "weekly", "forecast", "calibration")


@bp.get("/<id:team_id>/chart/<name>.svg")
@roles_required(*LEADERS)
def chart_svg(team_id: int, name: str):
    if name not in CHARTS:  # before the dashboard is computed: an unknown name costs nothing
        abort(404)
    board, _ = _board(_team_or_404(team_id))
    narrow = request.args.get("size") == "narrow"  # the phone's rendering (the dashboard's <picture>); anything else: wide
    if name == "retention":
        svg = charts.line_chart(
            "Retention by week since a skill was learned", [p.x for p in board.curve_team],
            [(board.team.name, [p.value for p in board.curve_team]), ("whole organisation", [p.value for p in board.curve_org]),
             ("one-day training (a model, not data)", [p.value for p in board.reference])], x_title="weeks since learned", narrow=narrow)
    elif name == "weekly":
        svg = charts.line_chart("True retention by calendar week", [p.x.strftime("%d %b") for p in board.weekly],
                                [("first reviews answered right", [p.value for p in board.weekly])], x_title="week starting", narrow=narrow)
    elif name == "forecast":
        svg = charts.line_chart("Predicted recall over the next 30 days", [d for d, _, _ in board.forecast],
                                [("if practice goes on", [g for _, _, g in board.forecast]),
                                 ("if practice stops", [s for _, s, _ in board.forecast])], x_title="days from today", narrow=narrow)
    elif name == "calibration":
        svg = charts.calibration_chart([(b.predicted, b.actual, b.n) for b in board.calibration])
    else:
        abort(404)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


@bp.get("/<id:team_id>/skill/<skill_id>")
@roles_required(*LEADERS)
def skill(team_id: int, skill_id: str):
    team = _team_or_404(team_id)
    skill_row = db.get_or_404(Skill, skill_id)
    board, warning = _board(team)
    detail = dashboard_service.skill_detail(team, skill_row, board)
    return render_template("team/skill.html", board=board, skill=skill_row, detail=detail, warning=warning,
                           query=_range_query(board))


@bp.get("/rep/<id:user_id>")
@roles_required(*LEADERS)
def rep(user_id: int):
    rep_user = db.get_or_404(User, user_id)
    if not can_view_rep(current_user, rep_user):
        abort(404)
    return rep_page(rep_user)


def rep_page(rep_user: User, **forms) -> str:
    """A rep's page as their manager sees it; ``forms`` refills the vacation or working-days form with its error."""
    at = now()
    today, changes = local_day(rep_user, at), working_days_history(rep_user)
    # the form starts at the change still to come if there is one (saved as shown, it changes nothing), else tomorrow
    since = changes[0].since if changes and changes[0].since > today else next_working_days_day(rep_user, at)
    first, last = working_days_bounds(rep_user, at)
    forms.setdefault("working_days_since", since.isoformat())
    return render_template("progress/rep.html", progress=rep_progress(rep_user, at), own=False,
                           back=_back_to_team(rep_user), vacations=vacations_of(rep_user.id), weekdays=WEEKDAY_NAMES,
                           working_days_changes=changes, working_days_today=today,
                           working_days_ticked=working_weeks([rep_user])[rep_user.id].weekdays_on(since),
                           working_days_first=first, working_days_last=last, **forms)


@bp.post("/rep/<id:user_id>/working-days")
@roles_required(*LEADERS)
def working_days(user_id: int):
    """The rep's working days, set by their manager or an admin: what participation, the streak and inactivity count."""
    rep_user = db.get_or_404(User, user_id)
    if not can_view_rep(current_user, rep_user) or rep_user.role != "rep":
        abort(404)
    typed = {"working_days_typed": request.form.getlist("day"), "working_days_since": request.form.get("since", "")}
    try:
        since = datetime.strptime(typed["working_days_since"].strip(), "%Y-%m-%d").date() if typed["working_days_since"].strip() else None
    except ValueError:
        return rep_page(rep_user, working_days_error="Pick the day the change counts from as a date, like 2026-03-09.", **typed), 400
    try:
        result = set_working_days(rep_user, typed["working_days_typed"], by=current_user, now=now(), since=since)
    except UserError as exc:
        return rep_page(rep_user, working_days_error=str(exc), **typed), 400
    name, days = rep_user.name, weekday_span(result.days)
    if not result.changed:
        flash(f"No change: {name} already works {days} from {result.since:%a %d %b %Y} on.")
    else:
        first_day = result.since == working_days_bounds(rep_user, now())[0]  # nothing earlier to keep
        first_note = f", {name}'s first day" if first_day else ""
        earlier = "" if first_day else "; earlier days keep the days worked before"
        message = (f"{name} works {days} from {result.since:%a %d %b %Y} on (in {name}'s timezone{first_note}): "
                   f"participation, the streak and the inactive list count these days from then{earlier}.")
        if result.replaced:
            listed = [f"{day:%a %d %b %Y} ({weekday_span(weekdays)})" for day, weekdays in result.replaced]
            message += (f" It replaces the change{'s' if len(listed) > 1 else ''} from "
                        f"{', '.join(listed[:-1]) + ' and ' + listed[-1] if len(listed) > 1 else listed[0]}.")
        flash(message)
    return redirect(url_for("team.rep", user_id=rep_user.id, _anchor="working-days"), code=303)


def _back_to_team(rep_user: User) -> tuple[str, str]:
    """(URL, label) of the way back: the rep's team dashboard with the range it was left with, else the team list."""
    if rep_user.team is None or rep_user.team not in visible_teams(current_user):
        return url_for("team.index"), "Teams"
    span = {key: request.args[key] for key in ("start", "end") if request.args.get(key)}
    return url_for("team.show", team_id=rep_user.team.id, **span), rep_user.team.name
