import random
from datetime import datetime, timedelta, timezone

import pytest

from learnapp.domain.analytics import (ItemAttempt, ItemCounts, discriminations, flags, item_counts, item_stats, rep_items,
                                       skill_summary)

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


def _textbook_index(item, skill, pairs):
    """The upper-lower 27% index as written out, rep by rep: the reference discriminations() must equal to the bit."""
    strength = {}
    for p in pairs:
        strength.setdefault((p.user_id, p.skill_id), {})[p.scenario_id] = (p.answers, p.right)
    per_rep = []
    for user in sorted({p.user_id for p in pairs if p.scenario_id == item}):
        counts = strength.get((user, skill), {})
        others = [c for scenario, c in counts.items() if scenario != item]
        if sum(n for n, _ in others) and item in counts:
            per_rep.append((sum(r for _, r in others) / sum(n for n, _ in others), counts[item][1] / counts[item][0]))
    if len(per_rep) < 4:
        return None
    ranked = sorted(per_rep, key=lambda pair: pair[0])
    k = max(1, round(len(ranked) * 0.27))
    return sum(m for _, m in ranked[-k:]) / k - sum(m for _, m in ranked[:k]) / k


@pytest.mark.parametrize("seed", range(20))
def test_discriminations_equal_the_textbook_index_with_ties_and_a_changed_skill(seed):
    rng = random.Random(seed)
    rows = []
    for user in rng.sample(range(1, 200), rng.randint(3, 40)):  # rep ids out of order: the rows are sorted by rep
        for item, skill in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("b2", "b"), ("moved", "a")):
            if rng.random() < 0.8:
                for n in range(rng.randint(1, 4)):  # few answers: many reps tie on strength
                    rows.append(a(user, item, rng.random() < 0.6, minutes=rng.randint(0, 900), skill=skill))
            if item == "moved" and rng.random() < 0.5:  # answered again after it moved to skill b
                rows.append(a(user, item, rng.random() < 0.5, minutes=1000 + rng.randint(0, 99), skill="b"))
    pairs = rep_items(rows)
    items = item_counts(pairs)
    skill_of = {item: counts.skill_id for item, counts in items.items()}
    ranked = sorted(((p.scenario_id, p.user_id, p.skill_id, p.answers, p.right) for p in pairs), key=lambda r: r[:2])
    got = discriminations(ranked, skill_of)
    for item, skill in skill_of.items():
        assert got.get(item) == _textbook_index(item, skill, pairs), item
    assert item_stats(rows)["a1"].discrimination == got.get("a1")


def test_discriminations_refuse_rows_out_of_rep_order():
    rows = [("x", 2, "s", 1, 1), ("x", 1, "s", 1, 0)]
    with pytest.raises(ValueError, match="not sorted by rep"):
        discriminations(rows, {"x": "s"})
    with pytest.raises(ValueError, match="comes twice"):
        discriminations([("x", 1, "s", 1, 1), ("y", 1, "s", 1, 1), ("x", 2, "s", 1, 1)], {"x": "s", "y": "s"})


def test_item_counts_take_each_reps_earliest_pair_when_the_skill_changed():
    rows = [a(1, "x", False, 0, skill="old"), a(1, "x", True, 5, skill="new"), a(1, "x", True, 6, skill="new"),
            a(2, "x", True, 10, skill="new"), a(3, "x", True, 3, skill="old")]
    counts = item_counts(rep_items(rows))["x"]
    assert counts == ItemCounts("x", "old", answers=5, right=4, reps=3, first_right=2)  # rep 1 first answered wrong
    s = item_stats(rows)["x"]
    assert (s.skill_id, s.attempts, s.first_right, s.later_right) == ("old", 5, 2 / 3, 1.0)
