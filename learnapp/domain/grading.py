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
    if not isinstance(answer, str) or answer not in {o.key for o in scenario.options}:
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
    names = {o.key: o.text for o in scenario.options}
    ranks = [keys.index(k) for k in given]
    kept = set(_longest_increasing(ranks))
    out_of_place = [given[i] for i in range(len(given)) if i not in kept]
    # the share of step pairs in the right order: moving a step k places costs k pairs, a reversal scores 0
    pairs = len(ranks) * (len(ranks) - 1) // 2
    swapped = sum(1 for i in range(len(ranks)) for j in range(i + 1, len(ranks)) if ranks[i] > ranks[j])
    score = (pairs - swapped) / pairs if pairs else 1.0
    if not out_of_place:
        reason = "Every step is in its place."
    else:
        reason = " ".join(_where_it_belongs(k, keys, names) for k in out_of_place)
    return Verdict(correct=not out_of_place, score=score, chosen=",".join(given), expected=",".join(keys), fit=None,
                   reason=reason, lesson=scenario.skill, explanation=scenario.explanation,
                   misplaced=out_of_place[0] if out_of_place else None, near_miss=swapped == 1,
                   details=tuple(f"{n}. {names[k]}" for n, k in enumerate(keys, 1)))


def _where_it_belongs(key: str, keys: list[str], names: dict[str, str]) -> str:
    i = keys.index(key)
    if i == 0:
        return f"'{_quoted(names[key])}' comes first."
    return f"'{_quoted(names[key])}' comes right after '{_quoted(names[keys[i - 1]])}'."


def _quoted(step: str) -> str:
    """A step's text to quote inside a sentence: without its own closing full stop (no "'Ask her.'.")."""
    return step.rstrip().rstrip(".;:")


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
