"""Grading against stage rules: every kind, every stage rule of the shipped model."""

from pathlib import Path

import pytest

from learnapp.domain.content import load_content
from learnapp.domain.grading import InvalidAnswer, correct_answer, grade
from learnapp.domain.model import Fit, Kind, Option, Scenario

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_content([ROOT / "lessons"]).model


def next_step(stage: str, *moves: str) -> Scenario:
    return Scenario(id="t", skill="days-out", kind=Kind.NEXT_STEP, prompt="?", stage=stage,
                    options=tuple(Option(key=m, text=m) for m in moves))


def test_the_shipped_model_is_loaded():
    assert [s.id for s in MODEL.stages] == ["alerted", "engaged", "exploring-options", "deciding", "results"]


def test_next_step_right_answer():
    verdict = grade(next_step("alerted", "send-offer", "share-education"), "share-education", MODEL)
    assert (verdict.correct, verdict.score, verdict.fit, verdict.chosen, verdict.expected) == (
        True, 1.0, Fit.FIT, "share-education", "share-education")
    assert verdict.reason == "Months before a decision, useful reading about the problem builds trust without pressure."
    assert verdict.lesson == "days-out" and verdict.details == ()


def test_next_step_premature_names_the_rule_and_what_fits():
    verdict = grade(next_step("alerted", "send-offer", "share-education"), "send-offer", MODEL)
    assert (verdict.correct, verdict.score, verdict.fit, verdict.expected) == (False, 0.0, Fit.PREMATURE, "share-education")
    assert verdict.reason == "An offer months before they have a project reads as salesy and costs their trust."
    assert verdict.details == ("What fits the Alerted stage: Share an educational guide. "
                               "Months before a decision, useful reading about the problem builds trust without pressure.",)


def test_next_step_late():
    verdict = grade(next_step("deciding", "share-education", "send-offer"), "share-education", MODEL)
    assert (verdict.correct, verdict.score, verdict.fit, verdict.expected) == (False, 0.0, Fit.LATE, "send-offer")
    assert verdict.reason == "A general guide days before they sign looks like you have not been listening."


def test_the_scenario_explanation_is_passed_on():
    scenario = Scenario(id="t", skill="days-out", kind=Kind.NEXT_STEP, prompt="?", stage="alerted",
                        options=(Option("send-offer", "o"), Option("share-education", "e")), explanation="Think of Priya.")
    assert grade(scenario, "send-offer", MODEL).explanation == "Think of Priya."


STAGE_MOVE_PAIRS = [(s.id, m.id) for s in MODEL.stages for m in MODEL.moves]


@pytest.mark.parametrize("stage_id, move", STAGE_MOVE_PAIRS)
def test_every_stage_rule_grades_every_move(stage_id, move):
    stage = MODEL.stage(stage_id)
    fitting = next(m for m, e in stage.rule.items() if e.fit is Fit.FIT)
    moves = (move,) if move == fitting else (move, fitting)
    verdict = grade(next_step(stage_id, *moves), move, MODEL)
    entry = stage.rule[move]
    assert (verdict.fit, verdict.reason) == (entry.fit, entry.reason)
    assert verdict.correct is (entry.fit is Fit.FIT)
    assert verdict.score == (1.0 if entry.fit is Fit.FIT else 0.0)
    assert verdict.expected == (move if entry.fit is Fit.FIT else fitting)


def which_stage(stage: str) -> Scenario:
    return Scenario(id="w", skill="tell-the-stage", kind=Kind.WHICH_STAGE, prompt="?", stage=stage,
                    options=tuple(Option(key=s, text=s) for s in ("alerted", "engaged", "exploring-options")))


def test_which_stage_right_and_wrong_in_both_directions():
    right = grade(which_stage("engaged"), "engaged", MODEL)
    assert (right.correct, right.score, right.fit, right.details) == (True, 1.0, None, ())
    assert right.reason.startswith("The lead is in the Engaged stage (46 to 90 days before buying). Typical signals: ")
    earlier = grade(which_stage("engaged"), "alerted", MODEL)
    assert (earlier.correct, earlier.score, earlier.expected) == (False, 0.0, "engaged")
    assert earlier.details == ("You picked Alerted, an earlier stage than the lead is in: they have moved on further than that.",)
    later = grade(which_stage("engaged"), "exploring-options", MODEL)
    assert later.details == ("You picked Exploring options, a later stage than the lead is in: they are not that far yet.",)
    assert earlier.reason == later.reason == right.reason
    assert correct_answer(which_stage("engaged"), MODEL) == "engaged"


def test_which_stage_after_the_purchase():
    scenario = Scenario(id="w", skill="tell-the-stage", kind=Kind.WHICH_STAGE, prompt="?", stage="results",
                        options=(Option("deciding", "d"), Option("results", "r")))
    assert grade(scenario, "results", MODEL).reason.startswith("The lead is in the Results stage (after the purchase).")


WALK = Scenario(id="o", skill="discovery-walk", kind=Kind.ORDER_STEPS, prompt="?", order_by="discovery",
                options=tuple(Option(key=k, text=k.upper()) for k in ("a", "b", "c", "d", "e")))


def test_order_steps_right_order():
    verdict = grade(WALK, ["a", "b", "c", "d", "e"], MODEL)
    assert (verdict.correct, verdict.score, verdict.misplaced, verdict.reason) == (True, 1.0, None, "Every step is in its place.")
    assert verdict.details == ("1. A", "2. B", "3. C", "4. D", "5. E")
    assert correct_answer(WALK, MODEL) == ("a", "b", "c", "d", "e")


def test_order_steps_one_step_moved_gets_partial_credit_and_is_named():
    verdict = grade(WALK, ["a", "c", "d", "b", "e"], MODEL)
    assert (verdict.correct, verdict.score, verdict.misplaced) == (False, 0.8, "b")
    assert verdict.reason == "'B' comes right after 'A'."


# every way to move one step at least two places (a move of one place is a swap: either step could be "the" one)
ONE_MOVED = [(key, to) for i, key in enumerate("abcde") for to in range(5) if abs(to - i) >= 2]


@pytest.mark.parametrize("key, to", ONE_MOVED)
def test_any_single_moved_step_scores_n_minus_one_over_n(key, to):
    answer = [k for k in "abcde" if k != key]
    answer.insert(to, key)
    verdict = grade(WALK, answer, MODEL)
    assert (verdict.correct, verdict.score, verdict.misplaced) == (False, 4 / 5, key)


def test_order_steps_first_step_moved_and_reversed():
    moved = grade(WALK, ["b", "c", "d", "e", "a"], MODEL)
    assert (moved.score, moved.misplaced, moved.reason) == (0.8, "a", "'A' comes first.")
    reversed_ = grade(WALK, ["e", "d", "c", "b", "a"], MODEL)
    assert (reversed_.correct, reversed_.score) == (False, 0.2)


def test_order_steps_accepts_comma_separated_keys():
    assert grade(WALK, "a,b,c,d,e", MODEL).correct


@pytest.mark.parametrize("answer", [
    ["a", "b", "c", "d"],  # one missing
    ["a", "b", "c", "d", "e", "e"],  # one too many
    ["a", "a", "b", "c", "d"],  # duplicate
    ["a", "b", "c", "d", "z"],  # unknown key
    "a",
    [],
])
def test_order_steps_invalid_answers(answer):
    with pytest.raises(InvalidAnswer):
        grade(WALK, answer, MODEL)


@pytest.mark.parametrize("answer", ["propose-demo", "", None, ["send-offer"]])
def test_single_choice_invalid_answers(answer):
    with pytest.raises(InvalidAnswer):
        grade(next_step("alerted", "send-offer", "share-education"), answer, MODEL)
    with pytest.raises(InvalidAnswer):
        grade(which_stage("engaged"), answer, MODEL)


def test_which_stage_refuses_a_stage_that_is_not_an_option():
    with pytest.raises(InvalidAnswer):
        grade(which_stage("engaged"), "deciding", MODEL)


@pytest.mark.parametrize("answer", [None, [1, 2, 3, 4, 5], 42])
def test_order_steps_answers_of_the_wrong_type_are_invalid_not_a_crash(answer):
    with pytest.raises(InvalidAnswer):
        grade(WALK, answer, MODEL)
