"""The rep's five minutes through the test client: log in, drill, feedback, summary, double submit."""

import re

from learnapp.extensions import db
from learnapp.models import Attempt
from learnapp.services import drill
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import form_for, right_answer, wrong_answer


def _current(rep):
    return drill.current_item(rep, drill_now())


def drill_now():
    from learnapp.services.db import now

    return now()


def test_login_lands_on_todays_drill(content, make_user, auth, client):
    rep = make_user("rep")
    response = auth.login(rep.email)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert page.request.path == "/drill/"
    assert "Item 1 of" in page.get_data(as_text=True)


def test_wrong_password_rerenders_the_form_with_a_message(content, make_user, auth):
    rep = make_user("rep")
    response = auth.login(rep.email, "not-the-password")
    assert response.status_code == 400
    assert "Email or password is wrong." in response.get_data(as_text=True)


def test_after_a_wrong_password_the_password_field_takes_the_focus(content, make_user, auth):
    # before, the email field took it again: a rep who mistyped the password had to move to the field by hand
    rep = make_user("rep")
    page = auth.login(rep.email, "not-the-password").get_data(as_text=True)
    email = re.search(r'<input[^>]*id="email"[^>]*>', page).group(0)
    password = re.search(r'<input[^>]*id="password"[^>]*>', page).group(0)
    assert f'value="{rep.email}"' in email and "autofocus" not in email
    assert "autofocus" in password and 'aria-invalid="true"' in password and 'value=""' in password
    assert re.search(r'aria-describedby="password-error"', password) and 'id="password-error"' in page


def test_answer_gives_feedback_with_rule_and_lesson_link(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = _current(rep)
    response = client.post("/drill/answer", data=form_for(page, wrong_answer(item)))
    assert response.status_code == 303
    feedback = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not quite" in feedback or "Partly right" in feedback
    assert "The rule:" in feedback
    assert f'href="/lessons/{item.scenario.skill}?feedback={item.presentation.token}"' in feedback
    attempt = db.session.scalars(db.select(Attempt)).one()
    # wrong is Again (1), except order-steps with only two neighbouring steps swapped: Hard (2)
    assert attempt.correct is False and attempt.rating == (2 if attempt.verdict["near_miss"] else 1)


def test_right_answer_is_right_and_next_item_follows(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = _current(rep)
    feedback = client.post("/drill/answer", data=form_for(page, right_answer(item)), follow_redirects=True)
    assert '<h1 id="verdict">Right</h1>' in feedback.get_data(as_text=True)
    assert "Item 2 of" in client.get("/drill/").get_data(as_text=True)


def test_double_submit_records_one_attempt(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = form_for(page, right_answer(_current(rep)))
    first = client.post("/drill/answer", data=data)
    second = client.post("/drill/answer", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1


def test_refresh_shows_the_same_item(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    first = re.search(r'name="token" value="(\w+)"', client.get("/drill/").get_data(as_text=True)).group(1)
    again = re.search(r'name="token" value="(\w+)"', client.get("/drill/").get_data(as_text=True)).group(1)
    assert first == again


def test_answer_without_csrf_token_is_refused(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = form_for(page, right_answer(_current(rep)))
    del data["csrf_token"]
    assert client.post("/drill/answer", data=data).status_code == 400
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0


def test_missing_or_bogus_answer_rerenders_with_error(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = form_for(page, "x")
    data.pop("choice", None)
    data.pop("order", None)
    response = client.post("/drill/answer", data={**data, "choice": "no-such-move", "order": "9 9 x"}
                           if "order=" in page else {**data, "choice": "no-such-move"})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0


def test_a_rep_cannot_answer_another_reps_item(content, make_user, auth, client, app):
    owner = make_user("rep")
    intruder = make_user("rep")
    item = _current(owner)
    auth.login(intruder.email)
    response = client.post("/drill/answer", data={"token": item.presentation.token, "choice": "share-education",
                                                  "csrf_token": csrf_token(client, "/drill/")})
    assert response.status_code == 404
    assert client.get(f"/drill/feedback/{item.presentation.token}").status_code == 404
    assert db.session.scalar(db.select(db.func.count(Attempt.id)).filter_by(user_id=owner.id)) == 0


def test_finishing_the_drill_shows_score_streak_and_next_due(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    total = 0
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        client.post("/drill/answer", data=form_for(page, right_answer(item)))
        total += 1
    summary = client.get("/drill/").get_data(as_text=True)
    assert f"{total} answers: {total} right</p>" in summary and "Score: <strong>100%</strong>" in summary
    assert "Streak: <strong>1 day</strong>" in summary
    assert "Next drill due:" in summary and "–" not in summary.split("Next drill due:")[1][:40]


def test_progress_page_lists_every_skill_with_recall(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    client.post("/drill/answer", data=form_for(page, right_answer(_current(rep))))
    progress = client.get("/progress/").get_data(as_text=True)
    assert progress.count("<tr>") >= 1 + 8
    assert "practised today" in progress and "not started" in progress  # recall right after practice is not shown as 100%


def test_logout_is_a_post(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    assert client.get("/logout").status_code == 405
    auth.logout()
    assert client.get("/drill/").status_code == 302


def test_practise_more_is_a_post_from_the_summary(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        client.post("/drill/answer", data=form_for(page, right_answer(item)))
    summary = client.get("/drill/").get_data(as_text=True)
    assert 'action="/drill/more"' in summary
    assert client.get("/drill/more").status_code == 405
    response = client.post("/drill/more", data={"csrf_token": csrf_token(client, "/drill/")})
    assert response.status_code == 303
    assert "Extra practice: item 1 of 3" in client.get("/drill/").get_data(as_text=True)


def test_each_extra_round_counts_its_own_items(content, make_user, auth, client):
    # before, the count ran on over the finished items ("Item 4 of 6" on the first extra item)
    rep = make_user("rep")
    auth.login(rep.email)
    for _ in range(2):
        while (item := _current(rep)) is not None:
            page = client.get("/drill/").get_data(as_text=True)
            client.post("/drill/answer", data=form_for(page, right_answer(item)))
        client.post("/drill/more", data={"csrf_token": csrf_token(client, "/drill/")})
        page = client.get("/drill/").get_data(as_text=True)
        assert "Extra practice: item 1 of 3" in page and "<h1 class=\"page-title\">Extra practice</h1>" in page
        assert "Item 4 of" not in page and "Item 7 of" not in page
    client.post("/drill/answer", data=form_for(page, right_answer(_current(rep))))
    assert "Extra practice: item 2 of 3" in client.get("/drill/").get_data(as_text=True)


def test_the_drill_page_has_one_h1(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    assert page.count("<h1") == 1
    assert re.search(r"<h1[^>]*>Today's drill</h1>", page)


def _plan_first(rep, skill):
    """Today's drill starts with this skill (the day's plan on the shipped content need not hold it)."""
    session = drill.today_session(rep, drill_now())
    session.plan = [{"skill": skill, "reason": "new", "recall": None}] + [p for p in session.plan if p["skill"] != skill]
    db.session.commit()


def _text_between(page, start, end):
    return page[page.index(start):page.index(end, page.index(start))]


def _answer_an_order(make_user, auth, client, order):
    """A new rep answers today's first item, a discovery-walk order, with ``order(item)``; the item, the order
    given, the feedback page, each step's text by key and the feedback's "Your order" list."""
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = _current(rep)
    assert item.scenario.kind.value == "order-steps"
    given = order(item)
    feedback = client.post("/drill/answer", data=form_for(page, given), follow_redirects=True).get_data(as_text=True)
    texts = {o.key: o.text for o in item.scenario.options}
    return item, given, feedback, texts, _text_between(feedback, "Your order", "The right order")


def test_order_steps_feedback_shows_the_reps_order_beside_the_right_order(content, make_user, auth, client):
    # the right order with its first step moved to the end
    item, given, feedback, texts, yours = _answer_an_order(make_user, auth, client, wrong_answer)
    right = feedback[feedback.index("The right order"):]
    assert [yours.index(texts[k]) for k in given] == sorted(yours.index(texts[k]) for k in given)
    right_keys = [o.key for o in item.scenario.options]
    assert [right.index(texts[k]) for k in right_keys] == sorted(right.index(texts[k]) for k in right_keys)
    # only the first step moved (to the end): it alone is marked, with where it belongs; the score is explained.
    # Before: "0 of 5 steps in their place" and five "✗ belongs at N", as every step sat one place off
    n = len(given)
    assert re.findall(r'<li class="(ok|bad)">', yours) == ["ok"] * (n - 1) + ["bad"]
    assert yours.count("✗") == 1 and '<span class="mark">✗ comes first</span>' in yours
    score = round(100 * (1 - (n - 1) / (n * (n - 1) / 2)))  # n - 1 of the step pairs swapped
    assert f"{n - 1} of {n} steps in order; score {score}%, the share of step pairs you put in the right order." in feedback
    # rated Again (forgotten) by the scheduler, so not called partly right
    assert '<h1 id="verdict">Not quite</h1>' in feedback and 'class="card feedback wrong"' in feedback
    assert "Partly right" not in feedback
    # the rule is one sentence; the lists carry the detail (before: "'X' comes right after 'Y'. ..." for each step)
    assert '<p class="rule"><strong>The rule:</strong> 1 step is out of order; it is marked in your order with where it belongs.</p>' in feedback


def test_a_step_out_of_order_says_which_step_it_belongs_after(content, make_user, auth, client):
    def second_step_last(item):
        right = right_answer(item)
        return [right[0], *right[2:], right[1]]

    item, given, feedback, texts, yours = _answer_an_order(make_user, auth, client, second_step_last)
    right = right_answer(item)
    after = texts[right[0]].rstrip().rstrip(".;:")
    assert yours.count("✗") == 1
    assert re.search(r'<li class="bad">' + re.escape(texts[right[1]]) + r'\s*<span class="mark">✗ belongs after</span> “'
                     + re.escape(after) + "”</li>", yours)


def test_two_neighbouring_steps_swapped_is_partly_right(content, make_user, auth, client):
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    right = right_answer(_current(rep))
    given = [right[1], right[0], *right[2:]]
    feedback = client.post("/drill/answer", data=form_for(page, given), follow_redirects=True).get_data(as_text=True)
    assert '<h1 id="verdict">Partly right</h1>' in feedback and 'class="card feedback partial"' in feedback
    n = len(right)
    assert f"{n - 1} of {n} steps in order; score {round(100 * (1 - 1 / (n * (n - 1) / 2)))}%" in feedback
    assert db.session.scalars(db.select(Attempt)).one().rating == 2


def test_a_lead_after_the_purchase_shows_days_after_the_purchase_not_negative_days_out(content, make_user, auth, client):
    """Before: "-330 days out" on the results stage."""
    rep = make_user("rep")
    _plan_first(rep, "results-loop")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    days = _current(rep).scenario.days_out
    assert days < 0
    assert f'<span class="tag">{-days} days after the purchase</span>' in page
    assert "days out" not in page


def test_which_stage_items_do_not_give_the_answer_away_in_days_out(content, make_user, auth, client):
    # before, "Which stage is he in?" came with a "60 days out" tag: the stages are days-out ranges, so the tag named
    # the answer and the signals the skill is about went unread
    rep = make_user("rep")
    _plan_first(rep, "tell-the-stage")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    scenario = _current(rep).scenario
    assert scenario.kind.value == "which-stage" and scenario.days_out is not None
    assert "days out" not in page and "after the purchase" not in page
    assert all(signal in page for signal in scenario.signals)  # the signals still show


def test_an_invalid_order_comes_back_with_the_typed_order_kept(content, make_user, auth, client):
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    data = {**form_for(page, right_answer(_current(rep))), "order": "1 1 2", "hint": "1"}
    response = client.post("/drill/answer", data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "exactly once" in body
    assert re.search(r'<input id="order"[^>]*value="1 1 2"', body)
    assert re.search(r'name="hint" value="1" checked', body)
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0


def test_answering_again_after_back_says_the_first_answer_counts(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = _current(rep)
    first = client.post("/drill/answer", data=form_for(page, right_answer(item)), follow_redirects=True)
    assert "already answered" not in first.get_data(as_text=True)
    # Back to the item page (the browser's copy), another answer, sent again
    again = client.post("/drill/answer", data=form_for(page, wrong_answer(item)))
    assert again.status_code == 303 and again.headers["Location"].endswith(item.presentation.token)
    feedback = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You had already answered this item; your first answer counts." in feedback
    assert '<h1 id="verdict">Right</h1>' in feedback
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1
    assert "already answered" not in client.get(again.headers["Location"]).get_data(as_text=True)  # said once


def test_due_dates_are_shown_on_the_viewers_own_calendar_day(content, make_user, auth, client):
    from datetime import datetime, timezone

    from learnapp.models import MemoryStateRow

    rep = make_user("rep", timezone="Pacific/Auckland")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    client.post("/drill/answer", data=form_for(page, right_answer(_current(rep))))
    due = datetime(2026, 3, 10, 20, 0, tzinfo=timezone.utc)  # Wednesday 11 March, 09:00 in Auckland
    db.session.execute(db.update(MemoryStateRow).filter_by(user_id=rep.id).values(due=due))
    db.session.commit()
    progress = client.get("/progress/").get_data(as_text=True)
    assert "Wed 11 Mar 2026" in progress and "Tue 10 Mar 2026" not in progress


def test_the_summary_counts_a_wrong_order_with_credit_as_wrong(app, content, make_user, auth, client):
    """Before: "3 answers: 2 right, 1 partly right" for an order the scheduler rated Again (forgotten)."""
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk")
    auth.login(rep.email)
    answers = 0
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        client.post("/drill/answer", data=form_for(page, wrong_answer(item) if answers == 0 else right_answer(item)))
        answers += 1
    page = client.get("/drill/").get_data(as_text=True)
    assert f"{answers} answers: {answers - 1} right, 1 wrong</p>" in page
    assert "partly right" not in page


def test_the_summary_counts_right_partly_right_and_wrong_apart(app, content, make_user, auth, client, clock):
    """Before: "1 of 3 right (53%)", a count of fully right items beside an average with partial credit."""
    from learnapp.services import drill as drill_service

    app.config["NEW_SKILLS_PER_DAY"] = 9  # every skill on the first day, order-steps ones too
    rep = make_user("rep")
    auth.login(rep.email)
    kinds = []
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        keys = [o.key for o in item.scenario.options]
        if item.scenario.kind.value == "order-steps" and "partly" not in kinds:
            answer, kind = [keys[1], keys[0], *keys[2:]], "partly"  # two neighbouring steps swapped
        elif "wrong" not in kinds and item.scenario.kind.value != "order-steps":
            answer, kind = wrong_answer(item), "wrong"
        else:
            answer, kind = right_answer(item), "right"
        client.post("/drill/answer", data=form_for(page, answer))
        kinds.append(kind)
    assert {"right", "partly", "wrong"} <= set(kinds), kinds
    summary = drill_service.summary(rep, clock.now())
    assert (summary.correct, summary.partly, summary.answered) == (kinds.count("right"), kinds.count("partly"), len(kinds))
    page = client.get("/drill/").get_data(as_text=True)
    expected = f"{len(kinds)} answers: {kinds.count('right')} right"
    if kinds.count("partly"):
        expected += f", {kinds.count('partly')} partly right"
    expected += f", {kinds.count('wrong')} wrong</p>"
    assert expected in page


def test_a_mistyped_order_is_answered_with_an_example_of_its_own_length():
    import pytest

    from learnapp.services.drill import DrillError
    from learnapp.web.drill import read_answer

    with pytest.raises(DrillError, match=r"e\.g\. 5 4 3 2 1\."):
        read_answer({"order": "one two"}, ["a", "b", "c", "d", "e"])


def test_a_stage_page_lists_only_the_kinds_of_move_it_has(content, make_user, auth, client):
    # before, the first stage showed a "Late here" heading with nothing under it, and the last an empty "Premature here"
    rep = make_user("rep")
    auth.login(rep.email)
    first = client.get("/lessons/stages/alerted").get_data(as_text=True)
    assert "Moves that fit" in first and "Premature here" in first and "Late here" not in first
    last = client.get("/lessons/stages/results").get_data(as_text=True)
    assert "Moves that fit" in last and "Late here" in last and "Premature here" not in last
    assert "<ul>\n  </ul>" not in first + last and not re.search(r"<ul>\s*</ul>", first + last)


def test_an_answer_sent_after_being_logged_out_elsewhere_lands_on_the_drill_after_logging_in(content, make_user, auth,
                                                                                              client):
    # before, the login went on to /drill/answer, a form's address: a "Not allowed" page instead of the drill
    from flask import g

    from learnapp.services.users import end_sessions

    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    end_sessions(rep)  # a password changed on another device logs this one out
    g.pop("_login_user", None)  # the test's app context is shared with the requests: the next one loads its user afresh
    sent = client.post("/drill/answer", data={"csrf_token": csrf_token(client, "/login"), "token": token, "choice": "x"})
    assert sent.status_code == 302 and "/login" in sent.headers["Location"]
    back = client.post(sent.headers["Location"], data={"email": rep.email, "password": PASSWORD,
                                                       "csrf_token": csrf_token(client, sent.headers["Location"])})
    assert back.status_code == 302
    landed = client.get(back.headers["Location"], follow_redirects=True)
    assert landed.status_code == 200 and landed.request.path == "/drill/"
    assert token in landed.get_data(as_text=True)  # the same item, still to answer
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0


def test_practise_more_with_nothing_drillable_leaves_the_finished_drill_as_it_was(content, make_user, auth, client):
    # before, the drill's finished time was cleared though no item was added (the day counted as unfinished), and the
    # summary offered the button and came back without a word. A page open from before still posts: it is told why
    from learnapp.extensions import db
    from learnapp.models import DrillSession, Scenario

    rep = make_user("rep")
    auth.login(rep.email)
    while (item := _current(rep)) is not None:
        page = client.get("/drill/").get_data(as_text=True)
        client.post("/drill/answer", data=form_for(page, right_answer(item)))
    finished = db.session.scalars(db.select(DrillSession.finished_at)).one()
    assert finished is not None
    db.session.execute(db.update(Scenario).values(status="retired"))  # every scenario withdrawn by the trainers
    db.session.commit()
    summary = client.get("/drill/").get_data(as_text=True)
    assert 'action="/drill/more"' not in summary and "Nothing more to practise right now" in summary
    response = client.post("/drill/more", data={"csrf_token": csrf_token(client, "/drill/")}, follow_redirects=True)
    assert db.session.scalars(db.select(DrillSession.finished_at)).one() == finished
    assert "There is nothing more to practise right now" in response.get_data(as_text=True)


def test_after_a_drill_just_after_midnight_the_page_says_more_falls_due_today_and_shows_it_then(content, make_user,
                                                                                                 auth, client, clock):
    # before, the summary after a 00:05 drill said "Next drill due: <tomorrow>" and "Done for today" while skills
    # answered wrong at 08:00 the day before fell due at 08:00 that day; opened at 10:00 it said the same
    from datetime import datetime, timezone

    from tests.helpers import drill_all

    rep = make_user("rep")
    clock.set(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    drill_all(rep, clock, answer=wrong_answer)
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=timezone.utc))
    drill_all(rep, clock)
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    assert "Done for now" in page and "today from 08:00" in page
    clock.set(datetime(2026, 3, 3, 10, tzinfo=timezone.utc))
    page = client.get("/drill/").get_data(as_text=True)
    assert "Due since your drill began: item 1 of 3" in page and "Extra practice" not in page


def test_the_summary_explains_the_score_only_when_an_order_got_partial_credit(content, make_user, auth, client, app):
    """Every summary said "(an order of steps counts for the share of step pairs in the right order, right or not)",
    also after a drill of next steps and stages only, where the score is just the share right: a note about
    something the rep had not seen."""
    note = "share of step pairs in the right order"
    app.config["NEW_SKILLS_PER_DAY"] = 99  # every skill on day one, order-steps ones included
    right, swapped = make_user("rep"), make_user("rep")
    for rep, order in ((right, lambda o: o), (swapped, lambda o: [o[1], o[0], *o[2:]])):
        while (item := _current(rep)) is not None:
            answer = right_answer(item)
            drill.submit_answer(rep, item.presentation.token, order(answer) if isinstance(answer, list) else answer,
                                drill_now())
    auth.login(right.email)
    summary = client.get("/drill/").get_data(as_text=True)
    assert "Score: <strong>100%</strong>" in summary and note not in summary
    auth.logout()
    auth.login(swapped.email)
    summary = client.get("/drill/").get_data(as_text=True)
    assert "partly right" in summary and note in summary  # its score is more than the share right: said why


def test_the_drill_says_when_the_rep_is_on_vacation(content, make_user, auth, client, clock):
    """A rep who paused practice from today found "Today's drill, item 1 of 3" as on any day, with nothing to say the
    pause had taken and that skipping the drill now costs nothing."""
    from datetime import timedelta

    from learnapp.services.vacations import add_vacation

    rep = make_user("rep")
    auth.login(rep.email)
    assert "You are on vacation" not in client.get("/drill/").get_data(as_text=True)
    today = drill.local_day(rep, clock.now())
    add_vacation(rep, today, today + timedelta(days=4), by=rep, now=clock.now())
    page = " ".join(client.get("/drill/").get_data(as_text=True).split())
    assert f"You are on vacation until {today + timedelta(days=4):%a %d %b %Y}: no reminders" in page
    assert "Item 1 of" in page  # the drill is still there to practise
    while (item := _current(rep)) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    assert "You are on vacation until" in client.get("/drill/").get_data(as_text=True)  # the summary says it too
    clock.advance(timedelta(days=5))
    assert "You are on vacation" not in client.get("/drill/").get_data(as_text=True)  # back at work


def test_the_vacation_note_shows_on_the_first_item_whether_the_drill_is_planned_or_shown_again(content, make_user, auth,
                                                                                                  client, clock):
    """The drill reads the vacation with the day's session (one statement less on the first item's page): on the
    request that plans the drill there is no session yet, so it is read apart; a refresh reads it with the session.
    Only the first item says it, not the next ones."""
    from datetime import timedelta

    from learnapp.services.vacations import add_vacation

    rep = make_user("rep")
    auth.login(rep.email)
    today = drill.local_day(rep, clock.now())
    add_vacation(rep, today, today + timedelta(days=2), by=rep, now=clock.now())
    note = f"You are on vacation until {today + timedelta(days=2):%a %d %b %Y}: no reminders"
    for _ in range(2):  # planned, then shown again
        page = " ".join(client.get("/drill/").get_data(as_text=True).split())
        assert note in page and "Item 1 of" in page
    item = _current(rep)
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    page = " ".join(client.get("/drill/").get_data(as_text=True).split())
    assert "You are on vacation" not in page and ("Item 2 of" in page or "Done" in page)


def test_a_lesson_opened_from_the_feedback_leads_back_to_it(content, make_user, auth, client):
    """A rep on a phone who opened the lesson from a drill's feedback found only "All lessons" on it: the way back to
    the drill was the browser's Back. The lesson and the stage page now lead back to that feedback (whose Next goes on
    with the drill); only a token of an item the rep answered counts, and no address is taken from the query."""
    import html

    rep, other = make_user("rep"), make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    item = _current(rep)
    client.post("/drill/answer", data=form_for(page, right_answer(item)))
    feedback = client.get(f"/drill/feedback/{token}").get_data(as_text=True)
    links = [html.unescape(href) for href in re.findall(r'href="(/lessons/[^"]+)"', feedback)]
    assert links and all(link.endswith(f"?feedback={token}") for link in links)
    for link in links:
        lesson = client.get(link).get_data(as_text=True)
        backs = re.findall(r'<a href="([^"]+)"[^>]*>← Back to your drill</a>', lesson)
        assert backs == [f"/drill/feedback/{token}"] * 2  # at the top and at the foot
        assert "All lessons" in lesson
    assert 'id="next"' in client.get(f"/drill/feedback/{token}").get_data(as_text=True)  # its Next flow is intact
    plain = links[0].split("?")[0]
    assert "Back to your drill" not in client.get(plain).get_data(as_text=True)  # opened from elsewhere: no such link
    unanswered = re.search(r'name="token" value="([0-9a-f]+)"', client.get("/drill/").get_data(as_text=True))
    for bad in ["https://evil.example/", "//evil.example", "/drill/feedback/x", "%2F%2Fevil", "x" * 5000,
                unanswered.group(1) if unanswered else "0" * 32]:
        response = client.get(plain, query_string={"feedback": bad})
        assert response.status_code == 200 and "Back to your drill" not in response.get_data(as_text=True)
        assert "evil" not in response.get_data(as_text=True)
    auth.login(other.email)  # another rep's token is not theirs to go back to
    response = client.get(links[0])
    assert response.status_code == 200 and "Back to your drill" not in response.get_data(as_text=True)


def test_the_vacation_note_gives_the_last_day_of_vacations_that_follow_each_other(content, make_user, auth, client, clock):
    """A vacation lasts at most 120 days, so a longer leave is recorded as vacations one after the other (they may
    not overlap). The drill said 'You are on vacation until' the end of the first one, a day the rep is still away
    after: the pause goes on to the last day of the unbroken run."""
    from datetime import timedelta

    from learnapp.services.vacations import add_vacation

    rep = make_user("rep")
    auth.login(rep.email)
    today = drill.local_day(rep, clock.now())
    add_vacation(rep, today, today + timedelta(days=2), by=rep, now=clock.now())
    add_vacation(rep, today + timedelta(days=3), today + timedelta(days=9), by=rep, now=clock.now())
    add_vacation(rep, today + timedelta(days=11), today + timedelta(days=20), by=rep, now=clock.now())  # a day between
    page = " ".join(client.get("/drill/").get_data(as_text=True).split())
    assert f"You are on vacation until {today + timedelta(days=9):%a %d %b %Y}: no reminders" in page
