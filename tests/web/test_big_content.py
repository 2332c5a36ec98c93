"""Content the size of a large company's (tests/big_content.py: 120 moves, 12 stages, 40 skills, 400 scenarios),
imported and used through the pages of each kind of user."""

from datetime import timedelta

import pytest

from learnapp.extensions import db
from learnapp.models import Attempt, Scenario
from learnapp.services import drill
from learnapp.services.content import import_content
from tests.big_content import big_content
from tests.helpers import drill_all, form_for, right_answer


@pytest.fixture
def big(ctx, clock, tmp_path):
    lessons, scenarios = big_content(tmp_path)
    report = import_content([str(lessons), str(scenarios)], clock.now())
    assert report.ok, report.errors[:3]
    assert db.session.scalar(db.select(db.func.count(Scenario.id))) == 400
    return lessons, scenarios


def test_a_rep_drills_every_skill_of_a_large_content_set_and_every_page_shows_it(big, make_user, auth, client, clock):
    rep = make_user("rep", team="North")
    manager = make_user("manager", team="North")
    trainer = make_user("trainer", team=None)
    for _ in range(14):  # three new skills a day: all 40 started by the 14th day
        drill_all(rep, clock)
        clock.advance(timedelta(days=1))
    started = db.session.scalars(db.select(Scenario.skill_id).join(Attempt, Attempt.scenario_id == Scenario.id)
                                 .where(Attempt.user_id == rep.id).distinct()).all()
    assert len(started) == 40

    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    item = drill.current_item(rep, clock.now())
    assert item is not None and item.presentation.token in page
    answered = client.post("/drill/answer", data=form_for(page, right_answer(item)))
    assert answered.status_code in (200, 303)
    assert db.session.scalar(db.select(db.func.count(Attempt.id)).filter_by(presentation_id=item.presentation.id)) == 1
    progress = client.get("/progress/").get_data(as_text=True)
    assert all(f"Skill {k}: read the signals" in progress for k in range(1, 41))
    lessons = client.get("/lessons/").get_data(as_text=True)
    assert all(f"Skill {k}: read the signals" in lessons for k in range(1, 41))
    stage = client.get("/lessons/stages/stage-12").get_data(as_text=True)
    assert all(f"Move {m}: follow up on what the buyer asked for" in stage for m in range(120))
    auth.logout()

    auth.login(manager.email)
    team = client.get(f"/team/{rep.team_id}")
    assert team.status_code == 200 and "Skill 40: read the signals" in team.get_data(as_text=True)
    assert client.get(f"/team/{rep.team_id}/skill/skill-40").status_code == 200
    assert client.get(f"/team/rep/{rep.id}").status_code == 200
    auth.logout()

    auth.login(trainer.email)
    listing = client.get("/author/").get_data(as_text=True)
    assert all(f"skill-{k:02d}-case-{v:02d}" in listing for k in range(1, 41) for v in range(1, 11))
    assert client.get("/author/scenarios/skill-40-case-10/edit").status_code == 200
    assert client.get("/author/lessons/skill-40/edit").status_code == 200
    text = (big[1] / "skill-40" / "skill-40-case-01.md").read_text()
    csrf = client.get("/author/scenarios/skill-40-case-01/edit").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    result = client.post("/author/validate", json={"text": text}, headers={"X-CSRFToken": csrf}).get_json()
    assert result["ok"], result["errors"]


def test_the_scenario_editor_lists_every_id_a_scenario_can_use(big, make_user, auth, client):
    """The editor is the only place a trainer without the files sees move ids: an error on a misspelt one names the
    closest three of 120 (it listed all 120 on one line), and the editor lists them all with the stages they fit."""
    trainer = make_user("trainer", team=None)
    auth.login(trainer.email)
    page = client.get("/author/scenarios/skill-01-case-01/edit").get_data(as_text=True)
    ids = " ".join(page.split('<details class="legend ids" id="ids">')[1].split("</details>")[0].split())
    assert "Ids a scenario can use: 120 moves, 12 stages, 6 discovery steps, 40 skills" in ids
    assert all(f"<dt><code>move-{m:03d}-follow-up-on-the-request</code></dt> <dd>Move {m}: follow up on what the buyer "
               f"asked for; fits: Stage {m % 12 + 1}</dd>" in ids for m in range(120))
    assert "<dt><code>stage-12</code></dt> <dd>Stage 12: 41 to 120 days out</dd>" in ids
    assert all(f"<dt><code>skill-{k:02d}</code></dt><dd>Skill {k}: read the signals</dd>" in ids for k in range(1, 41))
    assert 'id="ids"' in client.get("/author/scenarios/new").get_data(as_text=True)
    assert 'id="ids"' not in client.get("/author/lessons/skill-01/edit").get_data(as_text=True)
