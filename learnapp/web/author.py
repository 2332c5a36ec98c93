"""Trainers: browse, edit with live preview and validation, try, retire, and see the history of scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup

from learnapp.domain import grading
from learnapp.domain.model import Kind, Option, Scenario, answer_label_in
from learnapp.extensions import db
from learnapp.models import Scenario as ScenarioRow
from learnapp.models import Skill
from learnapp.rendering import removed_by_sanitiser, render_guide
from learnapp.services import analytics, authoring
from learnapp.services import content as content_service
from learnapp.services.db import now
from learnapp.services.drill import DrillError, option_order, user_zone
from learnapp.web import roles_required
from learnapp.web.drill import read_answer

bp = Blueprint("author", __name__, url_prefix="/author")
AUTHORS = ("trainer", "admin")


@dataclass
class PreviewItem:
    """Stands in for a drill item in the shared template: no presentation, options in file order."""

    scenario: Scenario
    options: list[Option]
    position: int = 0
    total: int = 1
    presentation: None = None


def _row_or_404(scenario_id: str) -> ScenarioRow:
    return db.get_or_404(ScenarioRow, scenario_id)


@bp.get("/")
@roles_required(*AUTHORS)
def index():
    filters = {k: request.args.get(k, "").strip() for k in ("q", "skill", "stage", "kind", "status", "flagged")}
    stats, by_skill, discrimination_as_of = analytics.all_item_stats()
    rows = [(row, scenario) for row, scenario in content_service.current_scenarios() if _matches(row, scenario, filters)]
    if filters.get("flagged"):
        rows = [(row, scenario) for row, scenario in rows if stats.get(row.id) and stats[row.id].flags]
    model = content_service.current_stage_model()
    wrong_of = [(row.id, scenario, stats[row.id].top_wrong) for row, scenario in rows
                if stats.get(row.id) and stats[row.id].top_wrong]
    # each named as the newest rules that know it named it (its answers' feedback did): a stage renamed or a move
    # dropped since is not shown as a bare id. One query for every imported model's id, whatever the rows.
    models = content_service.stage_models_newest_first() if wrong_of else []
    wrong = {ident: answer_label_in(scenario, chosen, models) for ident, scenario, chosen in wrong_of}
    stage_names = {s.id: s.name for s in model.stages} if model else {}
    skills = db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)).all()
    return render_template("author/index.html", rows=rows, filters=filters, model=model, stats=stats, by_skill=by_skill,
                           wrong=wrong, stage_names=stage_names, skills=skills, kind_names=KIND_NAMES,
                           skill_titles={skill.id: skill.title for skill in skills},
                           discrimination_as_of=_local_time(discrimination_as_of),
                           discrimination_stale=discrimination_as_of is not None and now() - discrimination_as_of > STALE)


STALE = timedelta(hours=36)  # the nightly job runs every day: a stored index older than this says it has not run


def _local_time(moment):
    """A moment as the viewer reads it: their own timezone's date, time and zone name."""
    if moment is None:
        return None
    local = moment.astimezone(user_zone(current_user))
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


# the kinds as a trainer reads them in the list; the files and the filter's values keep the ids
KIND_NAMES = {Kind.NEXT_STEP: "Next step", Kind.WHICH_STAGE: "Which stage", Kind.ORDER_STEPS: "Order the steps"}


def _matches(row: ScenarioRow, scenario: Scenario, f: dict[str, str]) -> bool:
    text = f"{scenario.id} {scenario.prompt} {scenario.lead_name}".lower()
    return ((not f["q"] or f["q"].lower() in text) and (not f["skill"] or scenario.skill == f["skill"])
            and (not f["stage"] or scenario.stage == f["stage"]) and (not f["kind"] or scenario.kind.value == f["kind"])
            and (not f["status"] or row.status == f["status"]))


@bp.get("/scenarios/new")
@roles_required(*AUTHORS)
def new():
    return _editor(row=None, text=authoring.NEW_SCENARIO, base=None)


@bp.get("/scenarios/<scenario_id>/edit")
@roles_required(*AUTHORS)
def edit(scenario_id: str):
    row = _row_or_404(scenario_id)
    return _editor(row=row, text=authoring.scenario_text(row), base=row.current_number)


@bp.post("/scenarios/new")
@bp.post("/scenarios/<scenario_id>/edit")
@roles_required(*AUTHORS)
def save(scenario_id: str | None = None):
    row = _row_or_404(scenario_id) if scenario_id else None
    if "text" not in request.form:  # not the editor's form (its preview's Answer, say): no save, and no empty text
        return redirect(url_for("author.edit", scenario_id=scenario_id) if scenario_id else url_for("author.new"), code=303)
    text = request.form.get("text", "")
    base = request.form.get("base", type=int)
    result = authoring.save_scenario(text, editing=scenario_id, base_number=base, actor=current_user.email, now=now())
    if result.ok:
        flash(f"Saved {result.scenario_id}.")
        _saved_draft()
        return redirect(url_for("author.edit", scenario_id=result.scenario_id), code=303)
    return _editor(row=row, text=text, base=base, result=result)


def _saved_draft() -> None:
    """Tell the next editor page that the draft typed at this address is saved, so author.js clears it.

    The browser keeps the draft until then (not merely until the form is sent), so a save that
    fails on the way loses nothing; a one-shot mark like a flash, so a reload later does not clear a new draft.
    """
    session["author_saved_draft"] = request.script_root + request.path


def _editor(*, row: ScenarioRow | None = None, skill: Skill | None = None, text: str, base: int | None,
            result: authoring.SaveResult | None = None):
    """The editor page for a scenario or a lesson; after a refused save, with its errors and a 400 or 409.

    After a conflict the form starts from the version saved meanwhile: the trainer has been told, so
    a second save is deliberate and goes through (unless yet another version comes in between).
    """
    if result is not None and result.conflict:
        base = result.latest
    heading = f"Lesson: {skill.title}" if skill else (row.id if row else "New scenario")
    saved_draft = session.pop("author_saved_draft", None) if result is None else None
    page = render_template("author/edit.html", row=row, skill=skill, heading=heading, text=text, base=base,
                           errors=result.errors if result else [], conflict=result.conflict if result else None,
                           refused=result is not None, saved_draft=saved_draft,
                           ids=None if skill else authoring.editor_ids())
    return page if result is None else (page, 409 if result.conflict else 400)


def _history(title: str, back_url: str, versions: list, current: int, diff, answers: dict | None = None):
    """Every version with who and when, and the diff between two of them (?a=1&b=2; default: the last change)."""
    by_number = {v.number: v for v in versions}
    numbers = sorted(by_number)
    # each version's predecessor among those stored: a lesson imported before lesson versions existed (migration 0003,
    # on a database upgraded before it wrote them) has none for its first numbers, and its history was a 404
    previous = dict(zip(numbers[1:], numbers))
    new_n = request.args.get("b", type=int) or (current if current in by_number else numbers[-1] if numbers else None)
    old_n = request.args.get("a", type=int) or previous.get(new_n, new_n)
    if (numbers or request.args) and (old_n not in by_number or new_n not in by_number):
        abort(404)
    lines = diff(by_number[old_n], by_number[new_n]) if numbers and old_n != new_n else []
    return render_template("author/history.html", title=title, back_url=back_url, versions=versions, current=current,
                           lines=lines, a=old_n, b=new_n, answers=answers, previous=previous)


@bp.post("/validate")
@roles_required(*AUTHORS)
def validate():
    """Live validation and preview while the trainer types (JSON in, JSON out)."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # "[[[[..." a thousand deep: the JSON decoder recurses per level, and silent= does not catch it
        payload = None
    if not isinstance(payload, dict):  # not JSON, or JSON that is not an object ("text", [...], 1)
        payload = {}
    text, lesson_of = payload.get("text"), payload.get("lesson")
    if not isinstance(text, str) or (lesson_of is not None and not isinstance(lesson_of, str)):
        return jsonify(ok=False, errors=[{"line": 1, "message": "send the text as JSON: {\"text\": ...}"}]), 400
    removed: list[str] = []
    current = False  # the preview shows this very text: it parsed, and only the id's checks may have failed
    if lesson_of:
        lesson, errors = authoring.validate_lesson(text, lesson_of)
        preview = render_template("author/_lesson_preview.html", lesson=lesson) if lesson else ""
        if lesson:
            removed = removed_by_sanitiser(lesson.body)
    else:
        scenario, errors = authoring.validate(text)
        editing = payload.get("editing")  # the editor sends the id it edits ("" for a new scenario); scripts may not
        current = bool(scenario) and not errors
        if current and isinstance(editing, str):
            errors = authoring.id_errors(scenario.id, text, editing or None)
        preview = render_template("author/_preview.html", item=_preview_item(scenario)) if scenario else ""
        if scenario:
            removed = sorted({part for markdown in (scenario.prompt, scenario.explanation) if markdown
                              for part in removed_by_sanitiser(markdown)})
    if removed:  # said beside the preview: what the sanitiser drops would otherwise vanish without a word
        preview = render_template("author/_removed_note.html", removed=removed) + preview
    return jsonify(ok=not errors, errors=[{"line": e.line, "message": e.message} for e in errors], preview=preview,
                   preview_current=current or not errors, removed=removed)


def _preview_item(scenario: Scenario) -> PreviewItem:
    return PreviewItem(scenario=scenario, options=list(scenario.options))


@bp.route("/scenarios/<scenario_id>/try", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def try_it(scenario_id: str):
    """Answer as a rep would and see the verdict; nothing is recorded."""
    row = _row_or_404(scenario_id)
    scenario = content_service.scenario_from_version(content_service.current_version(row))
    # shuffled as a rep's drill shuffles (order-steps never in the right order), the same way on every showing of
    # this version, so the numbers typed on the page name the steps it showed
    by_key = {o.key: o for o in scenario.options}
    item = PreviewItem(scenario=scenario, options=[by_key[k] for k in option_order(scenario, f"try:{row.id}:{row.current_number}")])
    verdict, error = None, None
    unfit = authoring.unfit_errors(row)  # a retired scenario the stage rules imported since have left behind
    if unfit:
        error = (f"{row.id} no longer fits the current stage rules (line {unfit[0].line}: {unfit[0].message}), so it "
                 "cannot be graded: edit it to fit them.")
    elif request.method == "POST":
        try:
            answer = read_answer(request.form, [o.key for o in item.options])
            verdict = grading.grade(scenario, answer, content_service.current_stage_model())
        except (grading.InvalidAnswer, DrillError) as exc:
            error = str(exc)
    return render_template("author/try.html", row=row, item=item, verdict=verdict, error=error,
                           model=content_service.current_stage_model()), (400 if error and request.method == "POST" else 200)


STATUS_CHANGES = {
    "retire": ("retired", "Retired {}: it is no longer scheduled; its attempts stay."),
    "restore": ("active", "{} is active again."),
}


@bp.post("/scenarios/<scenario_id>/<any(retire, restore):action>")
@roles_required(*AUTHORS)
def change_status(scenario_id: str, action: str):
    _row_or_404(scenario_id)
    status, message = STATUS_CHANGES[action]
    errors = authoring.set_status(scenario_id, status, now())
    if errors:
        flash(f"{scenario_id} stays retired: it no longer fits the current stage rules (line {errors[0].line}: "
              f"{errors[0].message}). Edit it to fit them, then make it active again.")
    else:
        flash(message.format(scenario_id))
    return redirect(url_for("author.edit", scenario_id=scenario_id), code=303)


@bp.get("/guide")
@roles_required(*AUTHORS)
def guide():
    """The authoring guide (docs/authoring.md), rendered and sanitised like content: every field and check error."""
    text = content_service.authoring_guide()
    if text is None:
        abort(404)
    return render_template("author/guide.html", guide=Markup(render_guide(text)))  # sanitised by render_guide


@bp.get("/scenarios/<scenario_id>/history")
@roles_required(*AUTHORS)
def history(scenario_id: str):
    row = _row_or_404(scenario_id)
    return _history(row.id, url_for("author.edit", scenario_id=row.id), authoring.versions(scenario_id),
                    row.current_number, authoring.diff, authoring.version_answers(scenario_id))


@bp.get("/lessons/<skill_id>/edit")
@roles_required(*AUTHORS)
def edit_lesson(skill_id: str):
    skill = db.get_or_404(Skill, skill_id)
    return _editor(skill=skill, text=authoring.lesson_text(skill), base=skill.current_number)


@bp.post("/lessons/<skill_id>/edit")
@roles_required(*AUTHORS)
def save_lesson(skill_id: str):
    skill = db.get_or_404(Skill, skill_id)
    text = request.form.get("text", "")
    base = request.form.get("base", type=int)
    result = authoring.save_lesson(text, skill_id, base_number=base, actor=current_user.email, now=now())
    if result.ok:
        flash(f"Saved the lesson {skill_id}.")
        _saved_draft()
        return redirect(url_for("author.edit_lesson", skill_id=skill_id), code=303)
    return _editor(skill=skill, text=text, base=base, result=result)


@bp.get("/lessons/<skill_id>/history")
@roles_required(*AUTHORS)
def lesson_history(skill_id: str):
    skill = db.get_or_404(Skill, skill_id)
    return _history(f"the lesson {skill.title}", url_for("author.edit_lesson", skill_id=skill.id),
                    authoring.lesson_versions(skill_id), skill.current_number, authoring.lesson_diff)
