"""A rep's own progress page."""

import csv
import io

from flask import Blueprint, Response, render_template
from flask_login import current_user

from learnapp.services.db import now
from learnapp.services.drill import user_zone
from learnapp.services.progress import answers_of, rep_progress
from learnapp.web import roles_required
from learnapp.web.drill import DRILLERS

bp = Blueprint("progress", __name__, url_prefix="/progress")


@bp.get("/")
@roles_required(*DRILLERS)
def mine():
    return render_template("progress/rep.html", progress=rep_progress(current_user, now()), own=True)


@bp.get("/answers.csv")
@roles_required(*DRILLERS)
def answers_csv():
    """Every answer of the logged-in rep, theirs to keep: when (in their timezone), what was asked, what they
    answered, how it went."""
    from learnapp.web.team import _spreadsheet_safe, attachment

    zone = user_zone(current_user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"answered ({current_user.timezone})", "skill", "scenario", "question", "your answer", "result",
                     "score", "seconds"])
    for r in answers_of(current_user):
        writer.writerow([_spreadsheet_safe(v) for v in (
            r.answered_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), r.skill, r.scenario_id, r.prompt.strip(),
            r.answer, r.result, f"{r.score:.2f}", f"{r.seconds:.1f}")])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": attachment("my-answers.csv"), "Cache-Control": "no-store"})
