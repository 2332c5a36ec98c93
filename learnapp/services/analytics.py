"""Item analytics for the trainer's list: reads attempts, hands plain rows to domain.analytics."""

from __future__ import annotations

from learnapp.domain.analytics import ItemAttempt, ItemStats, item_stats, skill_summary
from learnapp.extensions import db
from learnapp.models import Attempt


def all_item_stats() -> tuple[dict[str, ItemStats], dict[str, dict]]:
    """Statistics per scenario and a summary per skill, over every attempt."""
    query = db.select(Attempt.user_id, Attempt.scenario_id, Attempt.skill_id, Attempt.answered_at, Attempt.correct,
                      Attempt.duration_ms, Attempt.verdict)
    rows = [ItemAttempt(u, scenario, skill, at, bool(correct), ms, (verdict or {}).get("chosen"))
            for u, scenario, skill, at, correct, ms, verdict in db.session.execute(query)]
    stats = item_stats(rows)
    return stats, skill_summary(stats.values())
