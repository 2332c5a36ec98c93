"""Nightly maintenance: check the derived memory states against the attempts they come from, and repair them.

A memory state is what FSRS makes of the rep's attempts at a skill, in order. The nightly job
replays each rep's attempts and compares: a state that differs is rewritten, a missing one is
restored and one with no attempts behind it is removed. Reps keep answering meanwhile, so every
repair is conditional on the row still being what was read: a state an answer changed after the
read is left alone (the answer wrote it from the newer attempts anyway).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from learnapp.domain import scheduling
from learnapp.extensions import db
from learnapp.models import Attempt, MemoryStateRow, User
from learnapp.services.db import begin_write
from learnapp.services.drill import local_day, scheduler, state_from_row

_FIELDS = ("stability", "difficulty", "due", "last_review", "state", "step", "reviews", "lapses")
_STATES = MemoryStateRow.__table__


@dataclass
class Checked:
    checked: int = 0
    repaired: int = 0
    restored: int = 0
    removed: int = 0
    changed_meanwhile: int = 0

    def __str__(self) -> str:
        return (f"memory states: {self.checked} checked, {self.repaired} repaired, {self.restored} restored, "
                f"{self.removed} removed" + (f", {self.changed_meanwhile} changed by an answer meanwhile (left as is)"
                                             if self.changed_meanwhile else ""))


def same_state(a: scheduling.MemoryState, b: scheduling.MemoryState) -> bool:
    """Equal as stored: floats to 1e-9 (a database round trip may not keep the last bit), times to the microsecond."""
    for name in _FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif x != y:
            return False
    return True


def verify_memory_states(*, users_per_read: int = 200) -> Checked:
    """Replay every rep's attempts and repair the memory states that do not match (see the module doc).

    Each rep's repairs are committed at once, so the write lock (SQLite) or the repaired rows
    (PostgreSQL) are held for one rep's writes only, never while other reps are replayed.
    """
    result = Checked()
    fsrs = scheduler()
    user_ids = list(db.session.scalars(
        select(User.id).where(User.id.in_(select(Attempt.user_id).distinct()) | User.id.in_(select(MemoryStateRow.user_id).distinct()))
        .order_by(User.id)))
    for start in range(0, len(user_ids), users_per_read):
        for user_id in user_ids[start:start + users_per_read]:
            _verify_user(user_id, fsrs, result)
        db.session.commit()  # ends the read transaction now and then (SQLite keeps no snapshot alive for hours)
    return result


def _verify_user(user_id: int, fsrs, result: Checked) -> None:
    # states first, then attempts: an answer committing in between shows up as a state older than the
    # replay, which the conditional write below then leaves alone (the reverse order could undo that answer).
    # Plain rows, not ORM objects: what was read must stay what was read for the condition.
    stored = {row.skill_id: row for row in db.session.execute(select(_STATES).where(_STATES.c.user_id == user_id))}
    reviews: dict[str, list] = defaultdict(list)
    for skill, answered_at, rating in db.session.execute(
            select(Attempt.skill_id, Attempt.answered_at, Attempt.rating).where(Attempt.user_id == user_id)
            .order_by(Attempt.skill_id, Attempt.answered_at, Attempt.id)):
        reviews[skill].append((answered_at, rating))
    writes = []
    for skill in sorted(set(stored) | set(reviews)):
        result.checked += 1
        replayed = scheduling.replay(skill, reviews.get(skill, ()), fsrs)
        row = stored.get(skill)
        if row is not None and replayed is not None and same_state(state_from_row(row), replayed):
            continue
        writes.append((skill, row, replayed))
    if not writes:
        return
    user = db.session.get(User, user_id)
    begin_write(keep_loaded=True)
    for skill, row, replayed in writes:
        key = and_(_STATES.c.user_id == user_id, _STATES.c.skill_id == skill)
        if row is not None:  # only if no answer has written the row since it was read
            key = and_(key, _STATES.c.reviews == row.reviews,
                       _STATES.c.last_review.is_(None) if row.last_review is None else _STATES.c.last_review == row.last_review)
        if replayed is None:
            done = db.session.execute(delete(_STATES).where(key)).rowcount
            result.removed += done
        elif row is None:
            try:
                with db.session.begin_nested():
                    db.session.execute(insert(_STATES).values(
                        user_id=user_id, skill_id=skill, introduced_on=local_day(user, reviews[skill][0][0]),
                        **{name: getattr(replayed, name) for name in _FIELDS}))
                done = 1
                result.restored += 1
            except IntegrityError:  # an answer created it meanwhile
                done = 0
        else:
            done = db.session.execute(update(_STATES).where(key).values(
                **{name: getattr(replayed, name) for name in _FIELDS})).rowcount
            result.repaired += done
        if not done:
            result.changed_meanwhile += 1
    db.session.commit()
