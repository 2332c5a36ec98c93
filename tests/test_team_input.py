"""The team dashboard's date range: whatever a manager types in the query string, the page answers 200."""

from datetime import date

import pytest
from markupsafe import escape

from learnapp.services.vacations import add_vacation
from learnapp.web.team import TABLES

PAGES = ["", "/skill/days-out"] + [f"/data/{name}.csv" for name in TABLES] + \
        [f"/chart/{name}.svg" for name in ("retention", "weekly", "forecast", "calibration")]
OUT_OF_WINDOW = "Dates must lie between 03 Mar 2021 and 02 Mar 2027; showing the last 26 weeks."


@pytest.fixture
def team(content, make_user, clock, auth):
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    add_vacation(rep, date(2026, 3, 9), date(2026, 3, 13), by=manager, now=clock.now())
    auth.login(manager.email)
    return rep.team_id


@pytest.mark.parametrize("start, end, message", [
    ("9999-12-20", "9999-12-31", OUT_OF_WINDOW),
    ("0001-01-01", "0001-01-02", OUT_OF_WINDOW),
    ("0001-01-01", "2026-03-02", OUT_OF_WINDOW),
    ("2026-01-01", "9999-12-31", OUT_OF_WINDOW),
    ("1900-01-01", "", OUT_OF_WINDOW),
    ("", "9999-12-31", OUT_OF_WINDOW),
    ("2026-03-10", "2026-03-01", "The start date is after the end date"),
    ("junk", "%00", "Dates must look like 2026-03-02"),
    ("99999-01-01", "2026-03-02", "Dates must look like 2026-03-02"),
])
def test_any_typed_range_shows_the_dashboard_with_a_message(team, client, start, end, message):
    for page in PAGES:
        response = client.get(f"/team/{team}{page}", query_string={"start": start, "end": end})
        assert response.status_code == 200, page
    shown = " ".join(client.get(f"/team/{team}", query_string={"start": start, "end": end}).get_data(as_text=True).split())
    assert message in shown
    # the fields keep what was typed, to be fixed (escaped); the line below them says the default range is shown
    assert f'name="start" value="{escape(start)}"' in shown and f'name="end" value="{escape(end)}"' in shown
    assert "Mon 01 Sep 2025 to Mon 02 Mar 2026</p>" in shown


def test_a_range_inside_the_window_is_shown_as_asked(team, client):
    shown = client.get(f"/team/{team}?start=2021-03-03&end=2027-03-02").get_data(as_text=True)
    assert 'name="start" value="2021-03-03"' in shown and 'name="end" value="2027-03-02"' in shown
    assert "Dates must" not in shown


def test_the_window_is_counted_from_today():
    from learnapp.web.team import date_range

    assert date_range("2021-03-03", "2027-03-02", date(2026, 3, 2))[1] is None
    span, warning = date_range("2021-03-02", "2026-03-02", date(2026, 3, 2))
    assert warning == OUT_OF_WINDOW and (span.start, span.end) == (date(2025, 9, 1), date(2026, 3, 2))
