"""Links that set a password: "Forgot your password?" by email, and admins' invitations to accounts made without one."""

import re
from datetime import timedelta

import pytest

from learnapp.extensions import db
from learnapp.models import User
from learnapp.services import password_links, users
from tests.conftest import PASSWORD, csrf_token


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _link_in(message_text: str) -> str:
    match = re.search(r"https://learn\.example\.com(/password/[\w.\-]+)", message_text)
    assert match, message_text
    return match.group(1)


def _forgot(client, email, address="127.0.0.1", wait=True):
    response = client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")},
                           environ_base={"REMOTE_ADDR": address})
    if wait:  # the email goes out after the answer, from a thread of its own
        password_links.wait_for_sending()
    return response


def _set(client, path, password, confirm=None):
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm,
                                   "csrf_token": csrf_token(client, path)})


def test_a_rep_who_forgot_their_password_sets_a_new_one_through_the_emailed_link(make_user, auth, client, inbox):
    rep = make_user("rep", name="Rita Forgetful")
    email, old_token = rep.email, rep.session_token
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
    response = _forgot(client, email.upper())
    assert response.status_code == 303
    assert f"If {email} has an account here, an email with a link" in _text(client.get(response.headers["Location"]))
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == [email] and "Subject: Set a new learnapp password" in message and "works for an hour, once" in message
    assert "List-Unsubscribe: <https://learn.example.com/unsubscribe/" in message
    path = _link_in(message)

    page = client.get(path)
    assert page.status_code == 200 and "For Rita Forgetful" in _text(page)
    assert page.headers["Referrer-Policy"] == "same-origin"  # the token goes to no other site
    assert "The two passwords differ." in _text(_set(client, path, "new-password-1", "new-password-2"))
    refused = _set(client, path, "short")
    assert refused.status_code == 400 and "at least 8 characters" in _text(refused), _text(refused)[-900:]
    assert db.session.get(User, rep.id).session_token == old_token  # nothing changed yet

    done = _set(client, path, "new-password-1")
    assert done.status_code == 303 and client.get("/drill/").status_code == 200  # logged in
    assert db.session.get(User, rep.id).session_token != old_token  # every older login ended
    assert "does not work any more" in _text(client.get(path))  # once only
    assert auth.login(email).status_code == 400  # the old password is gone
    assert auth.login(email, "new-password-1").status_code == 302


def test_the_answer_is_the_same_for_unknown_and_deactivated_addresses_and_nothing_is_sent(make_user, client, inbox):
    gone = make_user("rep")
    gone.active = False
    db.session.commit()
    answers = [_text(client.get(_forgot(client, email).headers["Location"]))
               for email in ("nobody.here@example.com", gone.email)]
    assert "If nobody.here@example.com has an account here" in answers[0]
    assert f"If {gone.email} has an account here" in answers[1]
    assert inbox.messages == []
    bad = _forgot(client, "not an address")
    assert bad.status_code == 400 and "Enter an email address." in _text(bad)


def test_a_reset_link_lasts_an_hour_and_an_invitation_a_week(make_user, ctx, clock):
    rep = make_user("rep")
    reset, invite = password_links.token(rep, password_links.RESET), password_links.token(rep, password_links.INVITE)
    clock.advance(timedelta(minutes=59))
    assert password_links.check(reset).purpose == "reset"
    clock.advance(timedelta(minutes=2))
    with pytest.raises(password_links.LinkError, match="expired"):
        password_links.check(reset)
    clock.advance(timedelta(days=6))
    assert password_links.check(invite).user.id == rep.id
    clock.advance(timedelta(days=1))
    with pytest.raises(password_links.LinkError, match="expired"):
        password_links.check(invite)


def test_a_link_is_refused_when_tampered_with_used_or_the_account_is_closed(make_user, ctx, client):
    rep, other = make_user("rep"), make_user("rep")
    token = password_links.token(rep, password_links.RESET)
    for bad in (token[:-2] + ("aa" if not token.endswith("aa") else "bb"), "nonsense", token + "x"):
        with pytest.raises(password_links.LinkError, match="does not work"):
            password_links.check(bad)
    response = client.get("/password/nonsense")
    assert response.status_code == 400 and "does not work any more" in _text(response)
    # the same link posted twice at once: both pass the first check, only the first sets a password
    first, second = password_links.check(token), password_links.check(token)
    password_links.set_password(first, "first-password-1")
    with pytest.raises(password_links.LinkError):
        password_links.set_password(second, "second-password-1")
    assert users.authenticate(rep.email, "first-password-1") is not None
    # a newer password (set any way) ends every link made before it; so does deactivating the account
    older = password_links.token(other, password_links.INVITE)
    users.replace_password(other, "another-password-1")
    with pytest.raises(password_links.LinkError):
        password_links.check(older)
    newer = password_links.token(other, password_links.INVITE)
    other.active = False
    db.session.commit()
    with pytest.raises(password_links.LinkError):
        password_links.check(newer)


def test_behind_https_the_link_sets_a_password_as_a_browser_posts_it(make_user, ctx, client):
    """Over HTTPS Flask-WTF refuses a form posted without a Referer from this host ("The referrer header is missing"),
    and the page's own Referrer-Policy was "no-referrer", so browsers sent none: behind HTTPS no invitation or reset
    link could set a password. The policy must still send the token to no other site."""
    rep = make_user("rep")
    site = "https://learn.example.com"
    path = password_links.url(rep, password_links.INVITE).removeprefix(ctx.config["BASE_URL"])
    page = client.get(path, base_url=site)
    policy = page.headers["Referrer-Policy"]
    assert page.status_code == 200 and policy in ("no-referrer", "same-origin")  # nothing sent to other sites
    referer = {} if policy == "no-referrer" else {"Referer": site + path}  # what a browser sends under that policy
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post(path, base_url=site, headers=referer,
                       data={"password": "new-password-1", "confirm": "new-password-1", "csrf_token": token})
    assert done.status_code == 303, _text(done)[-300:]
    assert users.authenticate(rep.email, "new-password-1") is not None


def test_without_email_the_login_page_sends_people_to_their_administrator(make_user, client):
    rep_email = make_user("rep").email
    assert "Ask your administrator to set a new one." in _text(client.get("/login"))
    page = client.get("/password/forgot")
    assert page.status_code == 200 and "sends no email" in _text(page) and 'name="email"' not in page.get_data(as_text=True)
    sent = client.post("/password/forgot", data={"email": rep_email, "csrf_token": csrf_token(client)})
    assert sent.status_code == 200 and "sends no email" in _text(sent)  # no form, nothing done


def test_reset_emails_to_one_address_are_limited_to_three_an_hour(make_user, client, inbox):
    email = make_user("rep", name="Flooded").email.replace("@", ".flood@")
    db.session.get(User, users.user_by_email(email.replace(".flood@", "@")).id).email = email
    db.session.commit()
    codes = [_forgot(client, email, address=f"10.9.8.{i}").status_code for i in range(5)]
    assert codes == [303, 303, 303, 429, 429] and len(inbox.messages) == 3


def test_an_account_made_without_a_password_cannot_log_in_until_its_invitation_is_used(make_user, ctx, auth, client):
    made = users.create_user("invited@example.com", "Ines Invited", None, "rep", team="North", now=ctx.extensions["learnapp.clock"].now())
    assert not users.has_password(made)
    for guess in ("", users.NO_PASSWORD, PASSWORD):
        assert users.authenticate("invited@example.com", guess) is None
    path = password_links.url(made, password_links.INVITE).removeprefix(ctx.config["BASE_URL"])
    assert auth.login("invited@example.com", users.NO_PASSWORD).status_code == 400
    assert _set(client, path, "my-own-password-1").status_code == 303
    assert client.get("/drill/").status_code == 200
    assert users.has_password(db.session.get(User, made.id))


def test_an_admin_adds_someone_without_a_password_and_the_invitation_goes_out(content, make_user, auth, client, inbox):
    admin = make_user("admin", team=None, name="Ada Admin")
    auth.login(admin.email)
    response = client.post("/admin/people", data={"email": "newbie@example.com", "name": "Nico New", "role": "rep",
                                                  "team": "", "timezone": "UTC", "password": "",
                                                  "csrf_token": csrf_token(client, "/admin/people")})
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert "An email with a link to set their password went to newbie@example.com; it works for 7 days." in page
    assert "no password yet (invited)" in page
    assert "no password yet" in _text(client.get("/admin/people"))
    (recipients, message), = inbox.messages
    # the subject said only 'Your learnapp account': not that it is an invitation, from whom, nor that it asks something
    assert recipients == ["newbie@example.com"] and "Subject: Ada Admin invited you to learnapp: set your password\n" in message
    assert "Ada Admin (" in message and "made you a learnapp account" in message
    auth.logout()
    path = _link_in(message)
    assert _set(client, path, "nicos-password-1").status_code == 303
    assert client.get("/drill/").status_code == 200


def test_without_email_an_admin_makes_a_link_to_hand_over(make_user, auth, client):
    admin, rep = make_user("admin", team=None), make_user("rep")
    rep_id, admin_id = rep.id, admin.id
    auth.login(admin.email)
    person = f"/admin/people/{rep_id}"
    page = _text(client.get(person))
    assert "Email them a link" not in page and "Make a link to hand over" in page
    assert client.post(f"{person}/link").status_code == 400  # no CSRF token: nothing shown
    shown = client.post(f"{person}/link", data={"csrf_token": csrf_token(client, person)})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    link = re.search(r'value="(http://[^"]+/password/[^"]+)"', shown.get_data(as_text=True)).group(1)
    assert "it works for 7 days, once" in _text(shown)
    assert "set LEARNAPP_BASE_URL to the address people open" in _text(shown)  # the default address: say so
    refused = client.post(f"/admin/people/{admin_id}/link", data={"csrf_token": csrf_token(client, person)})
    assert refused.status_code == 303 and "Change your own password under Settings" in _text(client.get(refused.headers["Location"]))
    auth.logout()
    path = link.split("127.0.0.1:5000", 1)[1]
    assert _set(client, path, "handed-over-1").status_code == 303
    assert client.get("/drill/").status_code == 200


# -- review: defects ------------------------------------------------------------------------------------------


def test_a_link_sent_to_an_address_since_corrected_stops_working(make_user, ctx, client, clock):
    """An invitation to a mistyped address reaches a stranger; the admin fixes the address: the stranger's link
    must die, or they take over the account (the same for a reset link sent before an email change)."""
    made = users.create_user("ana@exmaple.com", "Ana", None, "rep", team=None, now=clock.now())  # the typo
    admin = make_user("admin", team=None)
    stranger_link = password_links.url(made, password_links.INVITE).removeprefix(ctx.config["BASE_URL"])
    users.update_account(made, name="Ana", email="ana@example.com", role="rep", timezone="UTC", team_id=None,
                         leads=[], active=True, by=admin, now=clock.now())
    assert client.get(stranger_link).status_code == 400
    posted = client.post(stranger_link, data={"password": "strangers-password", "confirm": "strangers-password",
                                              "csrf_token": csrf_token(client, "/login")})
    assert posted.status_code == 400
    assert not users.has_password(db.session.get(User, made.id))


def test_forgot_answers_before_the_email_is_sent_so_timing_tells_nobody_who_has_an_account(make_user, client, monkeypatch, app):
    """The page says the same either way; if an account's request waited for the SMTP relay, its timing would tell."""
    import threading

    app.config.update(SMTP_HOST="127.0.0.1")
    relay_may_answer, sent = threading.Event(), []

    def slow_relay(mail):  # holds the email until the request has been answered (or 10 s: then the test fails)
        relay_may_answer.wait(10)
        sent.append((mail.to, relay_may_answer.is_set()))

    monkeypatch.setattr("learnapp.services.notify.send", slow_relay)
    email = make_user("rep").email
    assert _forgot(client, email, address="10.0.0.2", wait=False).status_code == 303
    relay_may_answer.set()  # the answer came back while the relay still held the email
    password_links.wait_for_sending()
    assert sent == [(email, True)]


def test_an_email_lost_between_the_commit_and_the_relay_is_asked_for_again(content, make_user, auth, client, inbox,
                                                                          monkeypatch, ctx):
    """A worker killed after an account's commit and before its invitation reached the relay (or before a reset's
    thread sent it) loses that email; nothing else was stored, so asking again is the whole remedy: the admin sees
    "no password yet" on People and emails a link from the person's page, and someone who asked for a reset asks
    again (the page says to if no email comes). docs/deploy.md section 2 says so."""
    from learnapp.services import notify

    admin = make_user("admin", team=None, name="Ada Admin")
    rep = make_user("rep", name="Rita Waiting")
    admin_email, rep_email = admin.email, rep.email
    lost = users.create_user("lost@example.com", "Lou Lost", None, "rep", team="North", now=ctx.extensions["learnapp.clock"].now())
    lost_id = lost.id  # committed; the process died before the invitation was sent
    auth.login(admin_email)
    assert "Lou Lost" in (people := _text(client.get("/admin/people"))) and "no password yet" in people
    sent = client.post(f"/admin/people/{lost_id}/link/email", data={"csrf_token": csrf_token(client, f"/admin/people/{lost_id}")})
    assert sent.status_code == 303 and "An email with a link to set their password went to lost@example.com" in _text(
        client.get(sent.headers["Location"]))
    (recipients, invitation), = inbox.messages
    auth.logout()
    assert recipients == ["lost@example.com"] and _set(client, _link_in(invitation), "lous-password-1").status_code == 303
    auth.logout()

    real_send = notify.send
    monkeypatch.setattr(notify, "send", lambda mail: None)  # the reset's thread never ran: killed with its worker
    assert _forgot(client, rep_email).status_code == 303 and len(inbox.messages) == 1
    monkeypatch.setattr(notify, "send", real_send)
    assert "No email? Check the address, or ask your administrator." in _text(client.get("/password/forgot"))
    assert _forgot(client, rep_email).status_code == 303  # asked again
    (recipients, reset) = inbox.messages[1]
    assert recipients == [rep_email] and _set(client, _link_in(reset), "ritas-password-1").status_code == 303


def test_an_invitation_without_a_named_inviter_says_it_is_one(content, clock):
    from learnapp.services import password_links
    from learnapp.services.users import create_user

    newbie = create_user("newbie@example.com", "Nico New", None, "rep", now=clock.now())
    mail = password_links.mail(newbie, password_links.INVITE)  # a people import from the command line
    assert mail.subject == "You are invited to learnapp: set your password"


def test_a_password_or_invitation_email_says_until_when_its_link_works_in_the_recipients_time(make_user, inbox, clock):
    """A week-long invitation said only "works for 7 days": read on the fifth day, nobody could tell whether it still
    worked. Each email now gives the end, in its recipient's own timezone."""
    from datetime import datetime, timezone

    from learnapp.services import password_links

    clock.set(datetime(2026, 3, 9, 14, 0, 30, tzinfo=timezone.utc))  # 10:00 in New York (summer time since the 8th)
    rita = make_user("rep", name="Rita", timezone="America/New_York")
    tom = make_user("rep", name="Tom", timezone="Asia/Tokyo")
    password_links.send(rita, password_links.RESET)
    password_links.send(tom, password_links.INVITE)
    (_, reset), (_, invite) = inbox.messages
    assert "(the link works for an hour, once: until Mon 9 Mar 2026, 11:00 EDT):" in reset
    assert "(the link works for 7 days, once: until Mon 16 Mar 2026, 23:00 JST):" in invite


def test_an_invitation_says_what_the_account_is_for_by_the_invited_persons_role(make_user, inbox, clock):
    """Every invitation said the account was "a five-minute daily drill": a manager invited to follow a team's
    retention, or a trainer invited to write content, read of a drill and nothing of what they were asked to do."""
    from learnapp.services import password_links
    from learnapp.services.users import create_user

    admin = make_user("admin", team=None, name="Ada Admin")
    for n, role in enumerate(("rep", "manager", "trainer", "admin")):
        person = create_user(f"new{n}@example.com", f"New {role}", None, role, team="North" if role != "admin" else None,
                             now=clock.now())
        password_links.send(person, password_links.INVITE, by=admin)
    opening = {}
    for to, text in inbox.messages:
        after = text.replace("\r\n", "\n").split("made you a learnapp account: ", 1)[1]
        opening[to[0]] = " ".join(after.split("\n\n", 1)[0].split())
    assert opening == {
        "new0@example.com": "a five-minute daily drill that keeps what you learned in training.",
        "new1@example.com": "to follow your team's practice: retention week by week, who and which skill is at risk, "
                            "and a weekly digest by email.",
        "new2@example.com": "to write the lessons and drill scenarios, preview them as a rep sees them and see which items "
                            "work.",
        "new3@example.com": "to run it: people, teams and the background jobs.",
    }


def test_an_invitation_page_does_not_speak_of_other_logins_a_new_account_does_not_have(make_user, ctx, client):
    """A new rep opening their invitation read "Every other login of this account ends.", of an account that had never
    been logged in to. It says so only to someone who has a password (a reset)."""
    made = users.create_user("new.rep@example.com", "Nia New", None, "rep", team="North",
                             now=ctx.extensions["learnapp.clock"].now())
    page = _text(client.get(password_links.url(made, password_links.INVITE).removeprefix(ctx.config["BASE_URL"])))
    assert "For Nia New (new.rep@example.com). You log in with this address and the password you choose here." in page
    assert "Every other login" not in page
    rep = make_user("rep", name="Rita Reset")
    page = _text(client.get(password_links.url(rep, password_links.RESET).removeprefix(ctx.config["BASE_URL"])))
    assert f"For Rita Reset ({rep.email}). Every other login of this account ends." in page


def test_an_invitation_says_setting_the_password_logs_one_in(content, make_user, auth, client, inbox):
    """The invitation said "Then log in with new@example.com" after setting the password, which logs the person in
    already: they looked for a login step that never came."""
    admin = make_user("admin", team=None, name="Ada Admin")
    auth.login(admin.email)
    client.post("/admin/people", data={"email": "newbie@example.com", "name": "Nico New", "role": "rep", "team": "",
                                       "timezone": "UTC", "password": "", "csrf_token": csrf_token(client, "/admin/people")})
    (_, message), = inbox.messages
    body = " ".join(message.replace("\r\n", "\n").split())
    assert "Then log in" not in body
    assert "Setting it logs you in. From then on you log in with newbie@example.com and that password." in body
    auth.logout()
    response = _set(client, _link_in(message), "nicos-password-1")
    assert response.status_code == 303 and client.get("/drill/").status_code == 200  # logged in, as the email says


def test_a_manager_who_leads_no_team_is_not_offered_to_stop_a_digest_they_do_not_get(make_user, inbox, client):
    """An invitation to a manager not yet given a team said "To stop learnapp's weekly team digest to you", and its
    page offered to stop "weekly team digests": no digest goes to a manager who leads no team (review)."""
    waiting, leading = make_user("manager", team=None, name="Nora"), make_user("manager", team="North", name="Lena")
    password_links.send(waiting, password_links.INVITE)
    password_links.send(leading, password_links.INVITE)
    mails = {to[0]: text for to, text in inbox.messages}
    assert "To stop learnapp's weekly team digest" not in mails[waiting.email] and "no regular emails" in mails[waiting.email]
    assert "List-Unsubscribe:" not in mails[waiting.email]
    assert "To stop learnapp's weekly team digest to you" in mails[leading.email]
    assert "List-Unsubscribe:" in mails[leading.email]
    link = re.search(r"https://learn\.example\.com(/unsubscribe/\S+)", mails[waiting.email]).group(1)
    page = " ".join(client.get(link).get_data(as_text=True).split())
    assert waiting.email + " gets no weekly team digest yet" in page and "Stop weekly team digests" not in page


def test_a_digest_link_opened_by_a_manager_whose_team_went_still_stops_the_digest(make_user, client):
    """It said 'Nothing to stop' (the digest goes to managers who lead a team), so the digest they asked to stop came
    back with their next team."""
    from learnapp.services import notify

    manager = make_user("manager", team=None, name="Nora")
    page = " ".join(client.get(f"/unsubscribe/{notify.unsubscribe_token(manager, notify.DIGEST)}").get_data(as_text=True).split())
    assert "Nothing to stop" not in page and f"Stop weekly team digests to {manager.email}" in page


def test_a_manager_who_leads_no_team_yet_reads_that_the_digest_starts_with_a_team(make_user, inbox, client):
    """Their invitation said both 'a weekly digest by email' and 'learnapp sends you no regular emails ... To make
    sure none start', and its page 'none will start should your role change' (the weekly digest to managers): the
    digest starts when they are given a team, with no change of role, and the link is what keeps it from starting."""
    waiting = make_user("manager", team=None, name="Nora")
    password_links.send(waiting, password_links.INVITE)
    (_, mail), = inbox.messages
    mail = " ".join(mail.replace("=\r\n", "").split())
    assert "no regular emails yet: the weekly team digest starts once you lead a team" in mail
    link = re.search(r"https://learn\.example\.com(/unsubscribe/\S+)", mail).group(1)
    page = " ".join(client.get(link).get_data(as_text=True).split())
    assert "no weekly team digest yet: it starts once they lead a team" in page and "should your role change" not in page
    done = " ".join(client.post(link).get_data(as_text=True).split())
    assert "the weekly team digest will not start when they lead a team" in done


def test_an_invitation_a_login_smtplib_cannot_send_fails_says_so_and_keeps_the_account(content, make_user, auth, client,
                                                                                         app):
    """An SMTP_PASSWORD with a non-ASCII character: smtplib's login raised UnicodeEncodeError before asking the relay,
    which the admin's page did not expect: a 500 after the account was made."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.conftest import Inbox, free_port

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
                            authenticator=lambda *args: AuthResult(success=True))
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_USER="mailer", SMTP_PASSWORD="Pässwort",
                          BASE_URL="https://learn.example.com")
        admin = make_user("admin", team=None, name="Ada Admin")
        auth.login(admin.email)
        response = client.post("/admin/people", data={"email": "newbie@example.com", "name": "Nico New", "role": "rep",
                                                      "team": "", "timezone": "UTC", "password": "",
                                                      "csrf_token": csrf_token(client, "/admin/people")})
    finally:
        controller.stop()
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert ("The email with their link could not be sent (the SMTP settings hold characters smtplib cannot send: "
            "SMTP_USER and SMTP_PASSWORD must be ASCII") in page
    assert db.session.scalar(db.select(User).filter_by(email="newbie@example.com")) is not None
    assert not inbox.messages
