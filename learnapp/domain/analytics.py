"""Item analytics for trainers: how each scenario and skill behaves, from plain attempt rows.

Pure: the service passes ItemAttempt rows. The discrimination index is the classic upper-lower
index: reps are ranked by their share right on the skill's *other* items; the index is the share
right on this item in the top 27% minus the share in the bottom 27%. Good items discriminate
(around 0.3 and above); an item that strong reps miss as often as weak ones is suspect.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

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


def item_stats(rows: Iterable[ItemAttempt]) -> dict[str, ItemStats]:
    """Statistics and flags (too easy, too hard, ambiguous) for every scenario with attempts."""
    rows = sorted(rows, key=lambda r: r.answered_at)
    by_item: dict[str, list[ItemAttempt]] = defaultdict(list)
    for row in rows:
        by_item[row.scenario_id].append(row)
    strength = _skill_strength(rows)
    return {item: _stats(item, attempts, strength) for item, attempts in by_item.items()}


def _skill_strength(rows: list[ItemAttempt]) -> dict[tuple[int, str], dict[str, list[bool]]]:
    """Per (rep, skill): results per item, to rank reps on the other items of the same skill."""
    result: dict[tuple[int, str], dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        result[(row.user_id, row.skill_id)][row.scenario_id].append(row.correct)
    return result


def _stats(item: str, attempts: list[ItemAttempt], strength) -> ItemStats:
    seen: set[int] = set()
    first, later = [], []
    for a in attempts:
        (later if a.user_id in seen else first).append(a.correct)
        seen.add(a.user_id)
    wrong = Counter(a.chosen for a in attempts if not a.correct and a.chosen)
    top_wrong, top_count = wrong.most_common(1)[0] if wrong else (None, 0)
    stats = ItemStats(
        scenario_id=item, skill_id=attempts[0].skill_id, attempts=len(attempts), first_right=_share(first),
        later_right=_share(later), median_seconds=statistics.median(a.duration_ms for a in attempts) / 1000,
        top_wrong=top_wrong, top_wrong_share=top_count / len(attempts),
        discrimination=discrimination(item, attempts, strength),
    )
    stats.flags = flags(stats)
    return stats


def discrimination(item: str, attempts: list[ItemAttempt], strength) -> float | None:
    """Upper-lower 27% index over reps ranked by their share right on the skill's other items."""
    skill = attempts[0].skill_id
    per_rep: dict[int, tuple[float, float]] = {}
    for user in sorted({a.user_id for a in attempts}):
        others = [c for scenario, results in strength[(user, skill)].items() if scenario != item for c in results]
        if others:
            mine = strength[(user, skill)][item]
            per_rep[user] = (sum(others) / len(others), sum(mine) / len(mine))
    if len(per_rep) < 4:
        return None
    ranked = sorted(per_rep.values(), key=lambda pair: pair[0])  # by strength only; ties keep rep order
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
