"""Trainer text with XSS payloads reaches the drill and feedback pages as harmless text."""

import shutil

from learnapp.extensions import db
from learnapp.models import Scenario
from learnapp.services.content import import_content
from tests.conftest import ROOT
from tests.helpers import form_for, right_answer
from tests.test_rendering import PAYLOADS, dangerous_parts


def test_payloads_in_a_scenario_are_not_executable_on_drill_and_feedback(ctx, clock, make_user, auth, client, tmp_path):
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    (tmp_path / "scenarios").mkdir()
    prompt = "\n\n".join(PAYLOADS)
    text = ("---\nid: xss-one\nskill: days-out\nkind: next-step\nstage: alerted\nsignals: ['<script>alert(1)</script>']\n"
            "options:\n  - move: send-offer\n    text: '<img src=x onerror=alert(1)>'\n  - move: share-education\n"
            "    text: '<svg onload=alert(1)>'\nexplanation: '<iframe src=javascript:alert(1)>'\n---\n" + prompt + "\n")
    for n in range(4):  # enough variants for the skill
        (tmp_path / "scenarios" / f"x{n}.md").write_text(text.replace("xss-one", f"xss-{n}"))
    report = import_content([str(tmp_path / "lessons"), str(tmp_path / "scenarios")], clock.now())
    assert report.ok, report.errors
    db.session.execute(db.update(Scenario).where(~Scenario.id.like("xss-%")).values(status="retired"))
    db.session.commit()
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/drill/").get_data(as_text=True)
    assert "xss" in page or "alert(1)" in page
    assert dangerous_parts(page.split("<body>", 1)[1]) == []
    from learnapp.services import drill
    item = drill.current_item(rep, clock.now())
    feedback = client.post("/drill/answer", data=form_for(page, right_answer(item)), follow_redirects=True)
    assert "The rule:" in feedback.get_data(as_text=True)
    assert dangerous_parts(feedback.get_data(as_text=True).split("<body>", 1)[1]) == []


def test_payloads_are_inert_in_the_editor_and_try_it(ctx, clock, make_user, auth, client, tmp_path):
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    (tmp_path / "scenarios").mkdir()
    text = ("---\nid: xss-edit\nskill: days-out\nkind: next-step\nstage: alerted\n"
            "options:\n  - move: send-offer\n    text: '</textarea><script>alert(1)</script>'\n  - move: share-education\n"
            "    text: '<svg onload=alert(1)>'\n---\n" + "\n\n".join(PAYLOADS) + "\n</textarea><img src=x onerror=alert(1)>\n")
    (tmp_path / "scenarios" / "x.md").write_text(text)
    assert import_content([str(tmp_path / "lessons"), str(tmp_path / "scenarios")], clock.now()).ok
    auth.login(make_user("trainer", team=None).email)
    for url in ("/author/scenarios/xss-edit/edit", "/author/scenarios/xss-edit/try", "/author/?q=xss"):
        page = client.get(url).get_data(as_text=True)
        assert dangerous_parts(page.split("<body>", 1)[1]) == [], url
