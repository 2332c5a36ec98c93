"""The rep's daily drill: today's item, the answer, feedback, the summary."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from learnapp.domain.grading import out_of_order
from learnapp.domain.model import Kind, answer_label
from learnapp.services import drill as drill_service
from learnapp.services.db import now
from learnapp.services.vacations import away_until as pause_until
from learnapp.web import roles_required

bp = Blueprint("drill", __name__, url_prefix="/drill")
DRILLERS = ("rep", "trainer", "manager", "admin")  # everyone may practise; only reps are tracked by managers
# the order-steps feedback (drill and try-it) marks the steps the grader counted as out of order, and only those
bp.add_app_template_global(out_of_order, "out_of_order")
# a move by its name, or by its id when the rules the answer was graded by do not list it (never a KeyError)
bp.add_app_template_global(answer_label, "answer_label")
NOTHING_MORE = "There is nothing more to practise right now: none of the skills you have started is drilled at the moment."
STALE_TAB = ("Nothing was recorded: that page showed an item no longer in your drill (it was open from earlier). "
             "Here is your drill as it stands now.")


def _user():
    """The logged-in user itself rather than the current_user proxy, which costs a lookup per attribute."""
    return current_user._get_current_object()


@bp.get("/")
@roles_required(*DRILLERS)
def today():
    """Today's next item, or the summary when the drill is done.

    A GET that writes, on purpose: the first showing of a slot stores which variant was shown, in
    which option order and when (the answer time counts from it), and plans the day on the first
    visit. Nothing the rep decides changes here: a refresh, the back button or a link from elsewhere
    shows the same stored item, and every answer is a POST with a CSRF token.
    """
    user = _user()
    user_id, day = user.id, drill_service.local_day(user, now())  # read before current_item commits and expires them
    item = drill_service.current_item(user, now())
    if item is None:
        return render_template("drill/summary.html", summary=drill_service.summary(user, now()),
                               away_until=pause_until(user_id, day))
    # the rep's vacation holding today, if any, is said on the drill's first item (current_item reads it with the
    # session) and on the summary: the drill is still there to practise
    return render_template("drill/item.html", item=item, error=None, away_until=item.away_until)


@bp.post("/more")
@roles_required(*DRILLERS)
def more():
    user = _user()
    if not drill_service.practise_more(user, now()) and drill_service.current_item(user, now()) is None:
        flash(NOTHING_MORE)
    return redirect(url_for("drill.today"), code=303)


@bp.post("/answer")
@roles_required(*DRILLERS)
def answer():
    token, user = request.form.get("token", ""), _user()
    try:
        answered = drill_service.submit_answer_once(user, token, lambda keys: read_answer(request.form, keys), now(),
                                                    hint=request.form.get("hint") == "1")
    except drill_service.UnknownItem as exc:  # a token of another rep's, or none: their item stays theirs (404)
        return render_template("error.html", code=404, title="Not found", message=str(exc),
                               link=url_for("drill.today"), link_text="Back to your drill"), 404
    except drill_service.StaleItem:  # a tab left open since an earlier day: that day's drill is over
        flash(STALE_TAB)
        return redirect(url_for("drill.today"), code=303)
    except drill_service.DrillError as exc:
        item = drill_service.current_item(user, now())
        if item is None or item.presentation.token != token:
            # a tab left open on an item no longer in the drill: show where the drill stands
            flash(STALE_TAB)
            return redirect(url_for("drill.today"), code=303)
        # the rep's typed order and "unsure" tick come back, so a slip costs one fix, not a retype
        return render_template("drill/item.html", item=item, error=str(exc), typed_order=request.form.get("order", ""),
                               unsure=request.form.get("hint") == "1"), 400
    if not answered.new:  # Back and answered again: say so rather than show the first feedback as if it were this one
        flash("You had already answered this item; your first answer counts.")
    return redirect(url_for("drill.feedback", token=token), code=303)


def read_answer(form, keys: list[str]) -> str | list[str]:
    """The answer from a drill form: one option key, or for order-steps the option numbers in order ("3 1 2").

    ``keys`` are the option keys in the order shown. Raises DrillError with a message for the rep.
    """
    if "order" not in form:
        choice = form.get("choice", "").strip()
        if not choice:
            raise drill_service.DrillError("Pick an answer first: one of the options.")
        return choice
    raw = form.get("order", "").replace(",", " ").split()
    if len(raw) == 1 and raw[0].isdigit() and len(raw[0]) == len(keys):
        raw = list(raw[0])  # "3124" typed without spaces
    try:
        numbers = [int(n) for n in raw]
    except ValueError:
        example = " ".join(str(n) for n in range(len(keys), 0, -1))
        raise drill_service.DrillError(f"Type the step numbers in order, e.g. {example}.") from None
    if sorted(numbers) != list(range(1, len(keys) + 1)):
        raise drill_service.DrillError(f"Use each number from 1 to {len(keys)} exactly once.")
    return [keys[n - 1] for n in numbers]


@bp.get("/feedback/<token>")
@roles_required(*DRILLERS)
def feedback(token: str):
    found = drill_service.feedback(_user(), token)
    if found is None:
        abort(404)
    attempt, scenario, model, current = found
    # the stage's page shows the current rules: none for a stage renamed or removed since the item was shown
    stage_page = scenario.stage is not None and any(s.id == scenario.stage for s in current.stages)
    return render_template("drill/feedback.html", attempt=attempt, scenario=scenario, model=model, Kind=Kind,
                           stage_page=stage_page, token=token)
