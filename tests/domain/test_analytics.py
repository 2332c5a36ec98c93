from datetime import datetime, timedelta, timezone

from learnapp.domain.analytics import ItemAttempt, flags, item_stats, skill_summary

T = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def a(user, item, correct, minutes=0, chosen=None, ms=20_000, skill="s"):
    return ItemAttempt(user, item, skill, T + timedelta(minutes=minutes), correct, ms, chosen)


def test_first_and_later_shares_median_time_and_top_wrong():
    rows = [a(1, "x", False, 0, "send-offer", 10_000), a(1, "x", True, 10), a(2, "x", True, 0, ms=30_000),
            a(3, "x", False, 0, "send-offer"), a(3, "x", False, 5, "propose-demo")]
    s = item_stats(rows)["x"]
    assert (s.attempts, s.first_right, s.later_right) == (5, 1 / 3, 0.5)
    assert s.median_seconds == 20.0
    assert (s.top_wrong, s.top_wrong_share) == ("send-offer", 0.4)
    assert s.flags == []  # fewer than ten answers: no judgement yet


def test_discrimination_separates_strong_and_weak_reps():
    rows = []
    for user in range(1, 11):
        strong = user > 5
        rows += [a(user, "other", strong, 0), a(user, "other2", strong, 1)]
        rows.append(a(user, "good", strong, 2, None if strong else "send-offer"))
        noisy_right = user in (1, 2, 3, 8, 9, 10)  # as many right among the weakest as among the strongest
        rows.append(a(user, "noisy", noisy_right, 3, None if noisy_right else "x"))
    stats = item_stats(rows)
    assert stats["good"].discrimination == 1.0
    assert stats["noisy"].discrimination == 0.0
    assert "ambiguous" in stats["noisy"].flags
    assert stats["good"].discrimination >= 0.1 and stats["good"].top_wrong_share == 0.5  # one popular wrong answer
    assert "ambiguous" not in stats["good"].flags  # only weak reps fall for its distractor


def test_flags_too_easy_and_too_hard():
    easy = item_stats([a(u, "e", True) for u in range(12)])["e"]
    hard = item_stats([a(u, "h", u == 0, chosen=None if u == 0 else f"m{u % 4}") for u in range(12)])["h"]
    assert "too easy" in easy.flags and "too hard" in hard.flags and "too hard" not in easy.flags
    assert skill_summary([easy, hard])["s"] == {"attempts": 24, "first_right": (1.0 + 1 / 12) / 2, "flagged": 2}
    assert flags(easy) == easy.flags
