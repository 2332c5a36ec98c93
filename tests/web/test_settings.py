"""A user's own settings page: reminders and, for every logged-in user, changing the password."""

import pytest

from learnapp.extensions import db
from learnapp.models import User
from tests.conftest import csrf_token


@pytest.fixture
def rep(make_user, auth):
    user = make_user("rep")
    auth.login(user.email)
    return user


def _settings(client, **fields):
    data = {"reminder_time": "09:00", "timezone": "UTC", "csrf_token": csrf_token(client, "/settings"), **fields}
    return client.post("/settings", data=data)


def test_reminders_on_with_no_day_are_refused_and_nothing_changes(rep, client):
    response = _settings(client, reminders_on="y", reminder_time="17:30")  # no reminder_days ticked
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Settings saved" not in page
    assert 'id="reminder_days-error">Pick at least one day, or switch reminders off.</p>' in page
    db.session.expire_all()
    user = db.session.get(User, rep.id)
    assert (user.reminders_on, user.reminder_time, user.reminder_days) == (True, "09:00", "0,1,2,3,4")


def test_reminders_off_need_no_day_and_days_with_reminders_on_save(rep, client):
    assert _settings(client).status_code == 303  # reminders off, no day: fine
    db.session.expire_all()
    assert db.session.get(User, rep.id).reminders_on is False
    assert _settings(client, reminders_on="y", reminder_days=["0", "4"]).status_code == 303
    db.session.expire_all()
    user = db.session.get(User, rep.id)
    assert user.reminders_on is True and user.reminder_days == "0,4"
