"""How the drill's "due later today" rule plays with FSRS's whole days, simulated with the app's own scheduler.

    python bench/plan_rule.py [--reps 200] [--days 90] [--jitter 30] [--wrong 0.3]

One skill per simulated rep, who drills once a day at 09:00 give or take --jitter minutes and answers wrong with
probability --wrong (right otherwise). Three rules for what today's drill holds: "due now" (only what is due when
the day's drill is planned), "due today" (also what falls due later that day) and "due today, a day after the last
review" (the app's rule: a skill due later today only once a whole day has passed since its last review, as FSRS
counts whole days). Prints, averaged over the reps: reviews, same-day reviews (less than a day after the last,
which FSRS barely counts), the final stability in days and how late, in days, reviews came after they fell due.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsrs import Rating  # noqa: E402

from learnapp.domain import scheduling  # noqa: E402

RULES = ("due now", "due today", "due today, a day after the last review")


def simulate(rule: str, seed: int, days: int, jitter: float, wrong: float) -> tuple[int, int, float, float]:
    sched = scheduling.make_scheduler(0.9)
    times, answers = random.Random(seed), random.Random(seed + 10_000)
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    state, reviews, same_day, lateness = None, 0, 0, []
    for day in range(days):
        now = start + timedelta(days=day, hours=9, minutes=times.uniform(-jitter, jitter))
        day_end = start + timedelta(days=day + 1)
        if state is not None:
            due = state.due <= now
            if rule != RULES[0] and state.due < day_end:
                due = due or rule == RULES[1] or (now - state.last_review).days >= 1
            if not due:
                continue
            same_day += (now - state.last_review).days < 1
            lateness.append(max(0.0, (now - state.due).total_seconds() / 86400))
        state = scheduling.review(state, "skill", Rating.Again if answers.random() < wrong else Rating.Good, now, sched)
        reviews += 1
    return reviews, same_day, state.stability, statistics.mean(lateness) if lateness else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--jitter", type=float, default=30.0, help="minutes either side of 09:00")
    parser.add_argument("--wrong", type=float, default=0.3, help="the share of wrong answers")
    args = parser.parse_args()
    print(f"{args.reps} reps, {args.days} days, drill at 09:00 +/- {args.jitter:g} min, {args.wrong:.0%} wrong")
    print(f"{'rule':40} {'reviews':>8} {'same-day':>9} {'stability':>10} {'late (days)':>12}")
    for rule in RULES:
        runs = [simulate(rule, seed, args.days, args.jitter, args.wrong) for seed in range(args.reps)]
        means = [statistics.mean(run[i] for run in runs) for i in range(4)]
        print(f"{rule:40} {means[0]:8.1f} {means[1]:9.1f} {means[2]:10.1f} {means[3]:12.2f}")


if __name__ == "__main__":
    main()
