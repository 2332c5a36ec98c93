"""A drill item is graded, and its feedback worded, by the stage rules in force when it was shown.

An import of new rules may rename a stage or drop a move from the catalogue (the scenarios that use it updated or
retired in the same breath); a rep who had an item of the old rules on screen, or who opens the feedback of an
answer given before, still gets their verdict and the page, not a 500.
"""

import re
from datetime import timedelta

from learnapp.extensions import db
from learnapp.models import Attempt, Scenario
from learnapp.services import drill
from learnapp.services.content import import_content
from tests.conftest import csrf_token
from tests.helpers import copy_content, drop_quantify_results

DIEGO = "results-diego-renewal"  # a next-step item of the results stage whose right move is quantify-results


def _only_diego_active():
    """Every other scenario retired: the rep's drill shows Diego's item."""
    db.session.execute(db.update(Scenario).where(Scenario.id != DIEGO).values(status="retired"))
    db.session.commit()


def _rename_results_stage(tmp_path):
    """The results stage becomes 'after-sale'; every scenario of it is updated to say so."""
    lessons, scenarios = copy_content(tmp_path)
    stage = lessons / "stages" / "5-results.md"
    stage.write_text(stage.read_text().replace("id: results\n", "id: after-sale\n"))
    for path in scenarios.rglob("*.md"):
        text = path.read_text()
        path.write_text(re.sub(r"^(- )?(stage|answer): results$", r"\1\2: after-sale", text, flags=re.MULTILINE))
    return [str(lessons), str(scenarios)]


def _show_diego(rep, clock):
    item = drill.current_item(rep, clock.now())
    assert item.scenario.id == DIEGO
    return item.presentation.token


def test_an_item_on_screen_while_its_stage_is_renamed_is_graded_by_the_rules_it_was_shown_under(
        content, make_user, clock, client, auth, tmp_path):
    rep = make_user("rep")
    _only_diego_active()
    clock.advance(timedelta(hours=1))
    token = _show_diego(rep, clock)
    clock.advance(timedelta(minutes=1))
    report = import_content(_rename_results_stage(tmp_path), clock.now())
    assert report.ok and f"scenario {DIEGO}" in report.updated, report.errors

    clock.advance(timedelta(minutes=1))
    attempt = drill.submit_answer(rep, token, "quantify-results", clock.now())  # before: KeyError 'results'
    assert attempt.correct
    assert attempt.verdict["reason"].startswith("Helping them put numbers on what changed")

    auth.login(rep.email)
    page = client.get(f"/drill/feedback/{token}")
    assert page.status_code == 200
    assert "Help quantify the results" in page.get_data(as_text=True)


def test_the_feedback_of_an_answer_whose_move_was_dropped_since_still_names_it(content, make_user, clock, client, auth,
                                                                                tmp_path):
    rep = make_user("rep")
    _only_diego_active()
    token = _show_diego(rep, clock)
    clock.advance(timedelta(seconds=20))
    assert drill.submit_answer(rep, token, "quantify-results", clock.now()).correct
    clock.advance(timedelta(days=3))
    drop_quantify_results(tmp_path, clock)

    auth.login(rep.email)
    page = client.get(f"/drill/feedback/{token}")  # before: a 500 (KeyError 'quantify-results')
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Help quantify the results" in text and "fits this stage" in text
    assert db.session.scalar(db.select(db.func.count()).select_from(Attempt)) == 1


def test_an_item_shown_after_new_rules_are_imported_is_graded_by_them(content, make_user, clock, tmp_path):
    """The rules of the showing, not of the first import: an item of the renamed stage shown after the import."""
    rep = make_user("rep")
    clock.advance(timedelta(minutes=1))
    assert import_content(_rename_results_stage(tmp_path), clock.now()).ok
    _only_diego_active()
    clock.advance(timedelta(minutes=1))
    token = _show_diego(rep, clock)
    clock.advance(timedelta(seconds=20))
    attempt = drill.submit_answer(rep, token, "send-offer", clock.now())
    assert not attempt.correct and "the Results stage" in attempt.verdict["details"][0]


def test_the_feedback_of_a_move_the_rules_it_was_graded_by_do_not_list_names_it_by_its_id(content, make_user, clock,
                                                                                            client, auth, tmp_path):
    """An item shown before the rules of its showing were stored with it (migration 0018) is graded by the rules in
    force at that moment: new rules imported in the very instant it was shown are those, and the move the rep picks
    from the version on screen is one they no longer list. Graded wrong, and its feedback still opens."""
    from learnapp.models import Presentation

    rep = make_user("rep")
    _only_diego_active()
    token = _show_diego(rep, clock)
    db.session.execute(db.update(Presentation).values(stage_model_id=None))  # shown before migration 0018
    db.session.commit()
    drop_quantify_results(tmp_path, clock)  # at the same instant
    clock.advance(timedelta(seconds=20))
    attempt = drill.submit_answer(rep, token, "quantify-results", clock.now())
    assert not attempt.correct and "no longer covers this move" in attempt.verdict["reason"]

    auth.login(rep.email)
    page = client.get(f"/drill/feedback/{token}")  # before: a 500 (KeyError 'quantify-results')
    assert page.status_code == 200 and "<strong>Your move:</strong> quantify-results" in page.get_data(as_text=True)


def test_the_feedback_of_an_item_whose_stage_was_renamed_since_links_no_missing_stage_page(content, make_user, clock,
                                                                                            client, auth, tmp_path):
    rep = make_user("rep")
    _only_diego_active()
    token = _show_diego(rep, clock)
    clock.advance(timedelta(seconds=20))
    drill.submit_answer(rep, token, "send-offer", clock.now())
    auth.login(rep.email)
    assert f'href="/lessons/stages/results?feedback={token}"' in client.get(f"/drill/feedback/{token}").get_data(as_text=True)

    clock.advance(timedelta(days=1))
    assert import_content(_rename_results_stage(tmp_path), clock.now()).ok
    page = client.get(f"/drill/feedback/{token}").get_data(as_text=True)
    assert client.get("/lessons/stages/results").status_code == 404
    assert "/lessons/stages/results" not in page  # before: 'About this stage' led to a 404
    assert "Read the two-minute lesson" in page


def test_the_answers_csv_names_an_answer_as_its_feedback_did_after_the_stage_is_renamed(content, make_user, clock,
                                                                                         client, auth, tmp_path):
    import csv
    import io

    rep = make_user("rep")
    db.session.execute(db.update(Scenario).where(Scenario.id != "stage-sam-reports").values(status="retired"))
    db.session.commit()
    item = drill.current_item(rep, clock.now())
    clock.advance(timedelta(seconds=20))
    drill.submit_answer(rep, item.presentation.token, "results", clock.now())
    clock.advance(timedelta(days=1))
    assert import_content(_rename_results_stage(tmp_path), clock.now()).ok

    auth.login(rep.email)
    rows = list(csv.DictReader(io.StringIO(client.get("/progress/answers.csv").get_data(as_text=True))))
    assert [row["your answer"] for row in rows] == ["Results"]  # before: 'results', an id the rules no longer know


def test_answering_an_item_shown_before_new_rules_leaves_the_current_rules_as_they_are(content, make_user, clock,
                                                                                        tmp_path):
    """The rules in force for an item shown before an import, with another rep's item shown after it: the id and the
    content hash of the rules read with the item are one stored version's, so the parsed rules cached by hash stay
    right for every later page (an id of the older rules read with the newer rules' hash cached the older rules
    under the newer hash: the stage pages and the editor then showed the rules the import had replaced)."""
    from learnapp.services.content import current_stage_model

    rep, other = make_user("rep"), make_user("rep")
    _only_diego_active()
    token = _show_diego(rep, clock)
    clock.advance(timedelta(minutes=1))
    assert import_content(_rename_results_stage(tmp_path), clock.now()).ok
    clock.advance(timedelta(minutes=1))
    _show_diego(other, clock)  # shown under the new rules
    clock.advance(timedelta(seconds=20))
    assert drill.submit_answer(rep, token, "quantify-results", clock.now()).correct
    assert [s.id for s in current_stage_model().stages][-1] == "after-sale"


def test_an_item_shown_by_a_server_whose_clock_is_behind_the_imports_is_graded_by_the_rules_of_its_version(
        content, make_user, clock, tmp_path):
    """The import ran on a host whose clock was ahead: the web server shows the new version at a moment that reads
    earlier than the import. The version shown came with the new rules, so those grade it (not the rules before)."""
    rep = make_user("rep")
    _only_diego_active()
    clock.advance(timedelta(minutes=5))
    assert import_content(_rename_results_stage(tmp_path), clock.now()).ok
    clock.advance(timedelta(minutes=-3))  # the web server's clock
    token = _show_diego(rep, clock)
    clock.advance(timedelta(seconds=20))
    attempt = drill.submit_answer(rep, token, "quantify-results", clock.now())  # before: KeyError 'after-sale'
    assert attempt.correct


def test_an_item_on_screen_while_an_import_from_a_host_behind_renames_its_stage_is_graded_by_the_rules_it_was_shown_under(
        content, make_user, clock, client, auth, tmp_path):
    """The import ran on a host whose clock was five minutes behind the web server's, while the item was on screen: its
    rules were stamped before the showing. Chosen by time, they graded the item (a stage they renamed: KeyError
    'results', a 500 on answering, and on its feedback page and the answers' CSV); the rules it was shown under, stored
    with the showing, grade it whatever the clocks."""
    rep = make_user("rep")
    _only_diego_active()
    clock.advance(timedelta(hours=1))
    token = _show_diego(rep, clock)
    clock.advance(timedelta(minutes=1))
    assert import_content(_rename_results_stage(tmp_path), clock.now() - timedelta(minutes=5)).ok  # the host's clock
    clock.advance(timedelta(minutes=1))
    auth.login(rep.email)
    response = client.post("/drill/answer", data={"csrf_token": csrf_token(client, "/drill/"), "token": token,
                                                  "choice": "quantify-results"})
    assert response.status_code == 303  # before: 500
    attempt = db.session.scalars(db.select(Attempt)).one()
    assert attempt.correct and attempt.verdict["reason"].startswith("Helping them put numbers on what changed")
    page = client.get(f"/drill/feedback/{token}")
    assert page.status_code == 200 and "Help quantify the results" in page.get_data(as_text=True)
    assert "Help quantify the results" in client.get("/progress/answers.csv").get_data(as_text=True)
    other = make_user("rep")
    later = _show_diego(other, clock)  # shown after the import: its new version, graded by the new rules
    clock.advance(timedelta(seconds=20))
    assert drill.submit_answer(other, later, "quantify-results", clock.now()).correct


def test_a_scenario_saved_in_the_editor_just_after_an_import_from_a_host_ahead_is_graded_by_the_rules_it_fits(
        content, make_user, clock, tmp_path):
    """The import ran on a host whose clock was ahead; a trainer saves the scenario in the editor within that skew. The
    version was checked against the imported rules (the newest), but read 'saved before' them it was graded, and its
    history written, by the rules they replaced: its stage renamed by the import, a KeyError (a 500) on answering."""
    from learnapp.services import authoring

    rep = make_user("rep")
    _only_diego_active()
    clock.advance(timedelta(minutes=5))
    assert import_content(_rename_results_stage(tmp_path), clock.now()).ok
    clock.advance(timedelta(minutes=-3))  # the web server's clock
    row = db.session.get(Scenario, DIEGO)
    text = authoring.scenario_text(row).replace("Diego", "Diego M.")
    assert authoring.save_scenario(text, editing=DIEGO, base_number=row.current_number, actor="t@example.com",
                                   now=clock.now()).ok
    versions = authoring.versions(DIEGO)
    changed = [line for kind, line in authoring.diff(versions[1], versions[0]) if kind in ("add", "del")]
    assert changed and all("Diego" in line for line in changed), changed  # before: '-answer: quantify-results' too

    token = _show_diego(rep, clock)
    clock.advance(timedelta(seconds=20))
    attempt = drill.submit_answer(rep, token, "quantify-results", clock.now())  # before: KeyError 'after-sale'
    assert attempt.correct


def test_the_trainers_list_names_the_most_chosen_wrong_answer_as_its_feedback_did_after_a_rename(
        content, make_user, clock, client, auth, tmp_path):
    """The trainer's list named the most chosen wrong answer by the current rules: a stage renamed (or a move dropped)
    since showed as its bare id, where the rep's feedback had named it."""
    rep, trainer = make_user("rep"), make_user("trainer")
    db.session.execute(db.update(Scenario).where(Scenario.id != "stage-omar-quote").values(status="retired"))
    db.session.commit()
    item = drill.current_item(rep, clock.now())
    clock.advance(timedelta(seconds=20))
    assert not drill.submit_answer(rep, item.presentation.token, "engaged", clock.now()).correct
    clock.advance(timedelta(days=1))
    lessons, scenarios = copy_content(tmp_path)  # the engaged stage becomes 'interested', and every scenario says so
    stage = lessons / "stages" / "2-engaged.md"
    stage.write_text(stage.read_text().replace("id: engaged\n", "id: interested\n"))
    for path in scenarios.rglob("*.md"):
        text = path.read_text()
        path.write_text(re.sub(r"^(- )?(stage|answer): engaged$", r"\1\2: interested", text, flags=re.MULTILINE))
    assert import_content([str(lessons), str(scenarios)], clock.now()).ok

    auth.login(trainer.email)
    page = client.get("/author/?q=omar").get_data(as_text=True)
    row = page[page.index('stage-omar-quote'):]
    row = row[:row.index("</tr>")]
    assert "<td>Engaged</td>" in row, row  # before: <td>engaged</td>


def test_the_history_of_a_version_saved_just_before_an_import_from_a_host_behind_shows_it_under_the_rules_it_fit(
        content, make_user, clock, client, auth, tmp_path):
    """A trainer saves the scenario in the editor; a minute later an import from a host whose clock is five minutes
    behind renames its stage. The import's rules read as imported before the save, so the history, choosing rules by
    time, wrote the saved version under them: a stage they do not know gives no answer, and the diffs showed the
    answer line dropped by the trainer's save and brought back by the import. Each version now records the rules it
    was checked against (scenario_version.stage_model_id, migration 0019), and its history is written under them."""
    from learnapp.services import authoring

    trainer = make_user("trainer", team=None)
    clock.advance(timedelta(hours=1))
    row = db.session.get(Scenario, DIEGO)
    text = authoring.scenario_text(row).replace("Diego", "Diego M.")
    assert authoring.save_scenario(text, editing=DIEGO, base_number=row.current_number, actor=trainer.email,
                                   now=clock.now()).ok
    clock.advance(timedelta(minutes=1))
    lessons, scenarios = _rename_results_stage(tmp_path)
    path = next(p for p in (tmp_path / "scenarios").rglob("*.md") if f"id: {DIEGO}\n" in p.read_text())
    path.write_text(path.read_text().replace("Diego", "Diego M."))  # the file as the editor left it, stage renamed
    report = import_content([lessons, scenarios], clock.now() - timedelta(minutes=5))  # the host's clock
    assert report.ok and f"scenario {DIEGO}" in report.updated, report.errors

    saved, imported = authoring.versions(DIEGO)[1], authoring.versions(DIEGO)[0]
    first = authoring.versions(DIEGO)[2]
    edit = [line for kind, line in authoring.diff(first, saved) if kind in ("add", "del")]
    assert edit and all("Diego" in line for line in edit), edit  # before: '-answer: quantify-results' too
    rename = [line for kind, line in authoring.diff(saved, imported) if kind in ("add", "del")]
    assert rename == ["-stage: results", "+stage: after-sale"]  # before: '+answer: quantify-results' too

    auth.login(trainer.email)
    page = client.get(f"/author/scenarios/{DIEGO}/history")
    assert page.status_code == 200
    assert "-answer: quantify-results" not in page.get_data(as_text=True)
