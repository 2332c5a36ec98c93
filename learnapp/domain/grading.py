"""Grading: (scenario, answer, stage rules) -> Verdict.

The right answer is never stored in a scenario: it follows from the stage rules, so fixing a
rule fixes every scenario of that stage.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Sequence

from learnapp.domain.model import Fit, Kind, RuleEntry, Scenario, StageModel, Verdict


class InvalidAnswer(ValueError):
    """The answer is not one the scenario offers (unknown option, repeated or missing step)."""


def correct_answer(scenario: Scenario, model: StageModel) -> str | tuple[str, ...]:
    """The right option key (next-step, which-stage) or the right order of keys (order-steps)."""
    if scenario.kind is Kind.NEXT_STEP:
        fitting = _fitting(scenario, model)
        if not fitting:  # the content check refuses such a scenario; a clear error beats StopIteration
            raise ValueError(f"no option of scenario '{scenario.id}' fits stage '{scenario.stage}'")
        return fitting[0]
    if scenario.kind is Kind.WHICH_STAGE:
        return scenario.stage
    return tuple(o.key for o in scenario.options)


def _fitting(scenario: Scenario, model: StageModel) -> list[str]:
    """The option keys whose move fits the lead's stage (exactly one in checked content)."""
    rule = model.stage(scenario.stage).rule
    return [o.key for o in scenario.options if o.key in rule and rule[o.key].fit is Fit.FIT]


def grade(scenario: Scenario, answer: str | Sequence[str], model: StageModel) -> Verdict:
    """Grade one answer against the stage rules; raises InvalidAnswer for an answer not on offer."""
    if scenario.kind is Kind.ORDER_STEPS:
        return _grade_order(scenario, answer, model)
    if not isinstance(answer, str):  # an order of steps sent for a one-choice item (a crafted form)
        raise InvalidAnswer("Pick one of the options.")
    if answer not in {o.key for o in scenario.options}:
        raise InvalidAnswer(f"'{answer}' is not one of this item's options")
    if scenario.kind is Kind.NEXT_STEP:
        return _grade_next_step(scenario, answer, model)
    return _grade_which_stage(scenario, answer, model)


def _grade_next_step(scenario: Scenario, move: str, model: StageModel) -> Verdict:
    stage = model.stage(scenario.stage)
    chosen = stage.rule.get(move)
    if chosen is None:  # a move the stage's rule has dropped since the scenario was checked: never right, never a crash
        chosen = RuleEntry(move=move, fit=None, reason=f"The rule of the {stage.name} stage no longer covers this move.")
    # a stored scenario whose stage rule changed since its check may have no fitting option left:
    # still grade the rep's move by the rule rather than fail the drill
    expected = next(iter(_fitting(scenario, model)), None)
    details = () if expected is None or move == expected else (
        f"What fits the {stage.name} stage: {model.move(expected).name}. {stage.rule[expected].reason}",)
    return Verdict(correct=chosen.fit is Fit.FIT, score=1.0 if chosen.fit is Fit.FIT else 0.0, chosen=move,
                   expected=expected, fit=chosen.fit, reason=chosen.reason, lesson=scenario.skill,
                   explanation=scenario.explanation, details=details)


def _grade_which_stage(scenario: Scenario, stage_id: str, model: StageModel) -> Verdict:
    right = model.stage(scenario.stage)
    chosen = model.stage(stage_id)
    when = "after the purchase" if right.days_max < 0 else f"{right.days_min} to {right.days_max} days before buying"
    signals = "; ".join(right.signals[:3])
    reason = f"The lead is in the {right.name} stage ({when}). Typical signals: {signals}." if signals else \
        f"The lead is in the {right.name} stage ({when})."
    details: tuple[str, ...] = ()
    if chosen.position < right.position:
        details = (f"You picked {chosen.name}, an earlier stage than the lead is in: they have moved on further than that.",)
    elif chosen.position > right.position:
        details = (f"You picked {chosen.name}, a later stage than the lead is in: they are not that far yet.",)
    correct = stage_id == right.id
    return Verdict(correct=correct, score=1.0 if correct else 0.0, chosen=stage_id, expected=right.id, fit=None,
                   reason=reason, lesson=scenario.skill, explanation=scenario.explanation, details=details)


def _grade_order(scenario: Scenario, answer: str | Sequence[str], model: StageModel) -> Verdict:
    keys = [o.key for o in scenario.options]
    if isinstance(answer, str):
        given = answer.split(",")
    elif isinstance(answer, (list, tuple)) and all(isinstance(k, str) for k in answer):
        given = list(answer)
    else:
        raise InvalidAnswer(f"put all {len(keys)} steps in order, each exactly once")
    if sorted(given) != sorted(keys):
        raise InvalidAnswer(f"put all {len(keys)} steps in order, each exactly once")
    out_of_place = out_of_order(given, keys)
    ranks = [keys.index(k) for k in given]
    # the share of step pairs in the right order: moving a step k places costs k pairs, a reversal scores 0
    pairs = len(ranks) * (len(ranks) - 1) // 2
    swapped = sum(1 for i in range(len(ranks)) for j in range(i + 1, len(ranks)) if ranks[i] > ranks[j])
    score = (pairs - swapped) / pairs if pairs else 1.0
    names = {o.key: o.text for o in scenario.options}
    return Verdict(correct=not out_of_place, score=score, chosen=",".join(given), expected=",".join(keys), fit=None,
                   reason=_order_reason(len(out_of_place)), lesson=scenario.skill, explanation=scenario.explanation,
                   misplaced=out_of_place[0] if out_of_place else None, near_miss=swapped == 1,
                   details=tuple(f"{n}. {names[k]}" for n, k in enumerate(keys, 1)))


def out_of_order(chosen: Sequence[str], right: Sequence[str]) -> list[str]:
    """The steps of an order that are out of order, in the rep's order: all but one longest run in the right order.

    B C D E A against A B C D E gives ["A"]: only A moved, the four others still follow each other.
    Keys missing from ``right`` count as out of order.
    """
    rank = {k: i for i, k in enumerate(right)}
    known = [i for i, k in enumerate(chosen) if k in rank]
    kept = {known[j] for j in _longest_increasing([rank[chosen[i]] for i in known])}
    return [k for i, k in enumerate(chosen) if i not in kept]


def _order_reason(out: int) -> str:
    """One sentence: the two lists beside it show which steps moved and where they belong."""
    if not out:
        return "Every step is in its place."
    if out == 1:
        return "1 step is out of order; it is marked in your order with where it belongs."
    return f"{out} steps are out of order; each is marked in your order with where it belongs."


def _longest_increasing(values: list[int]) -> list[int]:
    """Indexes of one longest strictly increasing subsequence (the steps already in order)."""
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(values)
    for i, v in enumerate(values):
        pos = bisect_left(tails, v)
        if pos == len(tails):
            tails.append(v)
            tail_index.append(i)
        else:
            tails[pos] = v
            tail_index[pos] = i
        parent[i] = tail_index[pos - 1] if pos > 0 else -1
    result, i = [], tail_index[-1] if tail_index else -1
    while i != -1:
        result.append(i)
        i = parent[i]
    return result[::-1]
