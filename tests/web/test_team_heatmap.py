"""The heat map, the at-risk list and the skill page agree on who is under 70%, and colours follow the numbers shown."""

import re

import pytest

from learnapp.extensions import db
from learnapp.models import Skill
from learnapp.services import dashboard as dashboard_service
from learnapp.web.team import heat_class, heat_legend

RECALL = {"Luca": 0.6984, "Ben": 0.9042, "Dev": 0.8961, "Ana": 0.95}


@pytest.fixture
def team(content, make_user, monkeypatch):
    reps = {name: make_user("rep", team="North", name=name) for name in RECALL}
    manager = make_user("manager", team="North")
    skill = db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)).first()
    recall = {reps[name].id: {skill.id: value} for name, value in RECALL.items()}
    monkeypatch.setattr(dashboard_service.retention, "recall_matrix", lambda states, now, scheduler: recall)
    return reps, manager, skill


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def test_a_rep_counted_under_70_shows_a_number_under_70_and_is_named(team, auth, client):
    reps, manager, skill = team
    auth.login(manager.email)
    page = client.get(f"/team/{reps['Luca'].team_id}").get_data(as_text=True)
    at_risk = _text(page[page.index('id="at-risk"'):page.index('id="retention"')])
    assert f"{skill.title}: team mean 86%, 1 rep under 70%: Luca 69%" in at_risk  # before: Luca showed as 70
    heat = page[page.index('id="recall"'):page.index('id="participation"')]
    cells = dict(re.findall(r'>(\w+)</a></th>\s*<td class="([^"]+)"', heat))
    assert cells == {"Ana": "heat-9", "Ben": "heat-8", "Dev": "heat-7", "Luca": "heat-3 at-risk"}
    assert '<td class="heat-3 at-risk"><strong>69</strong>' in heat
    assert ">70<" not in heat and ">90<" in heat and ">89<" in heat
    skill_page = client.get(f"/team/{reps['Luca'].team_id}/skill/{skill.id}").get_data(as_text=True)
    assert re.search(r'Luca</a></td>\s*<td class="heat-3 at-risk"><strong>69%</strong> at risk', skill_page)


def test_the_legend_lists_each_colour_with_the_numbers_it_covers_split_at_70(team, auth, client):
    reps, manager, _ = team
    auth.login(manager.email)
    page = client.get(f"/team/{reps['Luca'].team_id}").get_data(as_text=True)
    legend = page[page.index('class="heat-legend"'):]
    legend = legend[:legend.index("</p>")]
    assert "At risk, under 70:" in _text(legend) and "70 and over:" in _text(legend)
    assert _text(legend).index("60–69") < _text(legend).index("70 and over:") < _text(legend).index("70–74")
    for css, _low, label in heat_legend():
        assert f'<span class="{css}">{label}</span>' in legend


def test_equal_numbers_get_equal_colours_and_real_recall_uses_the_whole_scale():
    for shown in range(101):  # every value that shows the same number gets the same class
        assert len({heat_class(shown / 100 + d) for d in (0, 0.0031, 0.0069, 0.0099) if shown / 100 + d <= 1}) == 1, shown
    realistic = {heat_class(v / 1000) for v in range(600, 1001)}  # recall between 60% and 100%
    assert len(realistic) == 7 and "heat-3" in realistic  # before: heat-6..heat-9, the olive-to-yellow end
    assert heat_class(0.6999) != heat_class(0.70)  # the at-risk line is a colour boundary
    assert heat_class(None) == "heat-none"
