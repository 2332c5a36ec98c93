"""Item analytics for trainers: how each scenario and skill behaves, from plain attempt rows.

Pure: the service passes ItemAttempt rows. The discrimination index is the classic upper-lower
index: reps are ranked by their share right on the skill's *other* items; the index is the share
right on this item in the top 27% minus the share in the bottom 27%. Good items discriminate
(around 0.3 and above); an item that strong reps miss as often as weak ones is suspect.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping

MIN_ANSWERS = 10  # below this, no flag: too little data to judge
TOO_EASY = 0.95
TOO_HARD = 0.35
LOW_DISCRIMINATION = 0.1
POPULAR_WRONG = 0.4  # a single wrong option drawing this share of all answers suggests ambiguity


@dataclass(frozen=True)
class ItemAttempt:
    user_id: int
    scenario_id: str
    skill_id: str
    answered_at: datetime
    correct: bool
    duration_ms: int
    chosen: str | None


@dataclass
class ItemStats:
    scenario_id: str
    skill_id: str
    attempts: int
    first_right: float | None  # share right the first time a rep met this item
    later_right: float | None  # share right on later showings
    median_seconds: float | None
    top_wrong: str | None
    top_wrong_share: float
    discrimination: float | None
    flags: list[str] = field(default_factory=list)


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class RepItem:
    """One rep's answers to one item (scenario), under one skill: how many, how many right, and whether their
    first answer (the earliest, ``first_at``) was right. What the statistics need, counted by the database."""
    user_id: int
    scenario_id: str
    skill_id: str
    answers: int
    right: int
    first_correct: bool
    first_at: datetime


def rep_items(rows: Iterable[ItemAttempt]) -> list[RepItem]:
    """Attempt rows counted per (rep, item, skill), as the service's query counts them."""
    groups: dict[tuple[int, str, str], list[ItemAttempt]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.answered_at):
        groups[(row.user_id, row.scenario_id, row.skill_id)].append(row)
    return [RepItem(user, item, skill, len(g), sum(r.correct for r in g), g[0].correct, g[0].answered_at)
            for (user, item, skill), g in groups.items()]


def wrong_counts(rows: Iterable[ItemAttempt]) -> dict[str, dict[str, int]]:
    """Per item, how often each wrong answer was chosen."""
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        if not row.correct and row.chosen:
            result[row.scenario_id][row.chosen] = result[row.scenario_id].get(row.chosen, 0) + 1
    return result


def median_of_counts(counts: Mapping[int, int]) -> float:
    """The median of values given with how often each occurs (as statistics.median: the mean of the middle two
    for an even number of values)."""
    total = sum(counts.values())
    if not total:
        raise ValueError("no values")
    middle, seen, low = ((total - 1) // 2, total // 2), 0, None
    for value in sorted(counts):
        seen += counts[value]
        if low is None and seen > middle[0]:
            low = value
        if seen > middle[1]:
            return (low + value) / 2
    raise AssertionError("unreachable")


def item_stats(rows: Iterable[ItemAttempt]) -> dict[str, ItemStats]:
    """Statistics and flags (too easy, too hard, ambiguous) for every scenario with attempts."""
    rows = list(rows)
    medians: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        medians[row.scenario_id].append(row.duration_ms)
    return item_stats_from_counts(rep_items(rows), {item: statistics.median(ms) / 1000 for item, ms in medians.items()},
                                  wrong_counts(rows))


def item_stats_from_counts(pairs: Iterable[RepItem], median_seconds: Mapping[str, float],
                           wrong: Mapping[str, Mapping[str, int]]) -> dict[str, ItemStats]:
    """item_stats() from what the database counts: each rep's answers per item, each item's median answer time
    (seconds) and wrong answers by how often they were chosen. The most chosen wrong answer: on a tie, the first in
    alphabetical order. An item's skill is that of its earliest answer."""
    by_item: dict[str, list[RepItem]] = defaultdict(list)
    strength: dict[tuple[int, str], dict[str, tuple[int, int]]] = defaultdict(dict)  # (rep, skill) -> item -> counts
    for pair in pairs:
        by_item[pair.scenario_id].append(pair)
        strength[(pair.user_id, pair.skill_id)][pair.scenario_id] = (pair.answers, pair.right)
    result = {}
    for item, group in by_item.items():
        firsts: dict[int, RepItem] = {}
        for pair in sorted(group, key=lambda p: p.first_at):
            firsts.setdefault(pair.user_id, pair)
        answers, right = sum(p.answers for p in group), sum(p.right for p in group)
        first_right = sum(p.first_correct for p in firsts.values())
        later = answers - len(firsts)
        chosen = wrong.get(item, {})
        top_wrong = min(chosen, key=lambda c: (-chosen[c], c)) if chosen else None
        stats = ItemStats(
            scenario_id=item, skill_id=min(group, key=lambda p: p.first_at).skill_id, attempts=answers,
            first_right=first_right / len(firsts), later_right=(right - first_right) / later if later else None,
            median_seconds=median_seconds.get(item), top_wrong=top_wrong,
            top_wrong_share=chosen[top_wrong] / answers if top_wrong else 0.0, discrimination=None,
        )
        stats.discrimination = discrimination(item, stats.skill_id, sorted({p.user_id for p in group}), strength)
        stats.flags = flags(stats)
        result[item] = stats
    return result


def discrimination(item: str, skill: str, users: Iterable[int],
                   strength: Mapping[tuple[int, str], Mapping[str, tuple[int, int]]]) -> float | None:
    """Upper-lower 27% index over reps ranked by their share right on the skill's other items."""
    per_rep: list[tuple[float, float]] = []
    for user in users:
        counts = strength.get((user, skill), {})
        others = [c for scenario, c in counts.items() if scenario != item]
        other_answers = sum(n for n, _ in others)
        if other_answers and item in counts:
            mine_answers, mine_right = counts[item]
            per_rep.append((sum(r for _, r in others) / other_answers, mine_right / mine_answers))
    if len(per_rep) < 4:
        return None
    ranked = sorted(per_rep, key=lambda pair: pair[0])  # by strength only; ties keep rep order
    k = max(1, round(len(ranked) * 0.27))
    low, high = ranked[:k], ranked[-k:]
    return sum(m for _, m in high) / k - sum(m for _, m in low) / k


def flags(stats: ItemStats) -> list[str]:
    """Why an item deserves a trainer's look; nothing under MIN_ANSWERS answers."""
    if stats.attempts < MIN_ANSWERS:
        return []
    result = []
    if stats.first_right is not None and stats.first_right >= TOO_EASY:
        result.append("too easy")
    if stats.first_right is not None and stats.first_right <= TOO_HARD:
        result.append("too hard")
    weak = stats.discrimination is not None and stats.discrimination < LOW_DISCRIMINATION
    # a popular wrong answer is a good distractor if only weak reps pick it; suspect if strong reps do too
    tempting = stats.top_wrong_share >= POPULAR_WRONG and (stats.discrimination is None or stats.discrimination < 0.3)
    if weak or tempting:
        result.append("ambiguous")
    return result


def skill_summary(stats: Iterable[ItemStats]) -> dict[str, dict[str, float | int | None]]:
    """Per skill: attempts, mean first-exposure share right, and how many items are flagged."""
    groups: dict[str, list[ItemStats]] = defaultdict(list)
    for s in stats:
        groups[s.skill_id].append(s)
    summary = {}
    for skill, items in groups.items():
        firsts = [s.first_right for s in items if s.first_right is not None]
        summary[skill] = {"attempts": sum(s.attempts for s in items),
                          "first_right": sum(firsts) / len(firsts) if firsts else None,
                          "flagged": sum(1 for s in items if s.flags)}
    return summary
