"""Item analytics for trainers: how each scenario and skill behaves, from plain attempt rows.

Pure: item_stats() takes plain attempt rows; the service passes what its rollups sum instead
(item_stats_from_sums(), discriminations()), and the two give the same figures. The discrimination
index is the classic upper-lower index: reps are ranked by their share right on the skill's *other*
items; the index is the share right on this item in the top 27% minus the share in the bottom 27%.
Good items discriminate (around 0.3 and above); an item that strong reps miss as often as weak ones
is suspect.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
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
    pairs = rep_items(rows)
    items = item_counts(pairs)
    ranked = sorted(((p.scenario_id, p.user_id, p.skill_id, p.answers, p.right) for p in pairs), key=itemgetter(0, 1))
    return item_stats_from_sums(items.values(), discriminations(ranked, {i.scenario_id: i.skill_id for i in items.values()}),
                                {item: statistics.median(ms) / 1000 for item, ms in medians.items()}, wrong_counts(rows))


@dataclass(frozen=True)
class ItemCounts:
    """One item's answers over every rep, what its statistics are computed from apart from the discrimination:
    answers and right ones, the reps who answered it and how many of them got it right the first time (their
    earliest answer), and the skill of its earliest answer (the item's skill for the statistics)."""
    scenario_id: str
    skill_id: str
    answers: int
    right: int
    reps: int
    first_right: int


def item_counts(pairs: Iterable[RepItem]) -> dict[str, ItemCounts]:
    """Each item's counts from each rep's answers to it; a rep who answered it under two skills (its skill changed)
    counts once, with the pair answered first (on equal first answers, the one that comes first in ``pairs``)."""
    by_item: dict[str, list[RepItem]] = defaultdict(list)
    for pair in pairs:
        by_item[pair.scenario_id].append(pair)
    result = {}
    for item, group in by_item.items():
        firsts: dict[int, RepItem] = {}
        for pair in sorted(group, key=lambda p: p.first_at):
            firsts.setdefault(pair.user_id, pair)
        result[item] = ItemCounts(item, min(group, key=lambda p: p.first_at).skill_id, sum(p.answers for p in group),
                                  sum(p.right for p in group), len(firsts), sum(p.first_correct for p in firsts.values()))
    return result


def item_stats_from_sums(items: Iterable[ItemCounts], discrimination: Mapping[str, float | None],
                         median_seconds: Mapping[str, float], wrong: Mapping[str, Mapping[str, int]]) -> dict[str, ItemStats]:
    """item_stats() from what the database sums: each item's counts, its discrimination index (discriminations()),
    its median answer time (seconds) and its wrong answers by how often they were chosen. The most chosen wrong
    answer: on a tie, the first in alphabetical order. In the order of ``items``."""
    result = {}
    for counts in items:
        item, answers = counts.scenario_id, counts.answers
        later = answers - counts.reps
        chosen = wrong.get(item, {})
        top_wrong = min(chosen, key=lambda c: (-chosen[c], c)) if chosen else None
        stats = ItemStats(
            scenario_id=item, skill_id=counts.skill_id, attempts=answers, first_right=counts.first_right / counts.reps,
            later_right=(counts.right - counts.first_right) / later if later else None,
            median_seconds=median_seconds.get(item), top_wrong=top_wrong,
            top_wrong_share=chosen[top_wrong] / answers if top_wrong else 0.0, discrimination=discrimination.get(item),
        )
        stats.flags = flags(stats)
        result[item] = stats
    return result


def discriminations(rows: Iterable[tuple[str, int, str, int, int]], skill_of: Mapping[str, str]) -> dict[str, float]:
    """The upper-lower 27% index of every item in ``skill_of`` (item -> its skill) with four ranked reps or more.

    ``rows`` are each rep's answers per item and skill, ``(item, rep, skill, answers, right)``, sorted by item and
    rep (as the rollup's key orders them; a ValueError otherwise, since the order breaks ties). A rep counts for an
    item when they answered it under its skill and answered other items of that skill too; reps are ranked by their
    share right on those other items (ties keep rep order) and the index is the share right on this item of the top
    27% minus that of the bottom 27%. Rows of skills that are no item's skill, or of a skill's only item, change
    nothing and may be left out."""
    rows = rows if isinstance(rows, list) else list(rows)
    totals: dict[str, dict[int, list[int]]] = {}  # skill -> rep -> [answers, right] over all its items
    for _, rep, skill, answers, right in rows:
        reps = totals.get(skill)
        if reps is None:
            reps = totals[skill] = {}
        total = reps.get(rep)
        if total is None:
            reps[rep] = [answers, right]
        else:
            total[0] += answers
            total[1] += right
    result: dict[str, float] = {}
    done: set[str] = set()
    for item, group in groupby(rows, itemgetter(0)):
        if item in done:
            raise ValueError(f"rows not sorted by item: {item} comes twice")
        done.add(item)
        skill = skill_of.get(item)
        reps, per_rep, previous = totals.get(skill, {}), [], None
        for _, rep, rep_skill, answers, right in group:
            if previous is not None and rep < previous:
                raise ValueError(f"rows of {item} not sorted by rep")
            previous = rep
            if rep_skill == skill:
                total_answers, total_right = reps[rep]
                if total_answers > answers:  # answered other items of the skill
                    per_rep.append(((total_right - right) / (total_answers - answers), right / answers))
        if len(per_rep) >= 4:
            result[item] = upper_lower_index(per_rep)
    return result


def upper_lower_index(per_rep: list[tuple[float, float]]) -> float:
    """(strength, share right on the item) per rep, in rep order: the top 27% by strength minus the bottom 27%."""
    ranked = sorted(per_rep, key=itemgetter(0))  # by strength only; ties keep rep order
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
