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


def test_next_step_right_answer():
    verdict = grade(next_step("alerted", "send-offer", "share-education"), "share-education", MODEL)
    assert (verdict.correct, verdict.score, verdict.fit, verdict.expected) == (True, 1.0, Fit.FIT, "share-education")
    assert verdict.reason == MODEL.stage("alerted").rule["share-education"].reason
    assert verdict.lesson == "days-out" and verdict.details == ()


def test_next_step_premature_names_the_rule_and_what_fits():
    verdict = grade(next_step("alerted", "send-offer", "share-education"), "send-offer", MODEL)
    assert (verdict.correct, verdict.score, verdict.fit) == (False, 0.0, Fit.PREMATURE)
    assert verdict.reason == "An offer months before they have a project reads as salesy and costs their trust."
    assert verdict.details == ("What fits the Alerted stage: Share an educational guide. "
                               + MODEL.stage("alerted").rule["share-education"].reason,)


def test_next_step_late():
    verdict = grade(next_step("deciding", "share-education", "send-offer"), "share-education", MODEL)
    assert (verdict.correct, verdict.fit) == (False, Fit.LATE)
    assert verdict.reason == MODEL.stage("deciding").rule["share-education"].reason


STAGE_MOVE_PAIRS = [(s.id, m.id) for s in MODEL.stages for m in MODEL.moves]


@pytest.mark.parametrize("stage_id, move", STAGE_MOVE_PAIRS)
def test_every_stage_rule_grades_every_move(stage_id, move):
    stage = MODEL.stage(stage_id)
    fitting = next(m for m, e in stage.rule.items() if e.fit is Fit.FIT)
    moves = (move,) if move == fitting else (move, fitting)
    verdict = grade(next_step(stage_id, *moves), move, MODEL)
    assert verdict.fit is stage.rule[move].fit
    assert verdict.reason == stage.rule[move].reason
    assert verdict.correct is (stage.rule[move].fit is Fit.FIT)


def which_stage(stage: str) -> Scenario:
    return Scenario(id="w", skill="tell-the-stage", kind=Kind.WHICH_STAGE, prompt="?", stage=stage,
                    options=tuple(Option(key=s, text=s) for s in ("alerted", "engaged", "exploring-options")))


def test_which_stage_right_and_wrong_in_both_directions():
    right = grade(which_stage("engaged"), "engaged", MODEL)
    assert right.correct and right.reason.startswith("The lead is in the Engaged stage (46 to 90 days before buying).")
    earlier = grade(which_stage("engaged"), "alerted", MODEL)
    assert not earlier.correct and "an earlier stage" in earlier.details[0]
    later = grade(which_stage("engaged"), "exploring-options", MODEL)
    assert not later.correct and "a later stage" in later.details[0]
    assert correct_answer(which_stage("engaged"), MODEL) == "engaged"


WALK = Scenario(id="o", skill="discovery-walk", kind=Kind.ORDER_STEPS, prompt="?", order_by="discovery",
                options=tuple(Option(key=k, text=k.upper()) for k in ("a", "b", "c", "d", "e")))


def test_order_steps_right_order():
    verdict = grade(WALK, ["a", "b", "c", "d", "e"], MODEL)
    assert (verdict.correct, verdict.score, verdict.misplaced) == (True, 1.0, None)
    assert correct_answer(WALK, MODEL) == ("a", "b", "c", "d", "e")


def test_order_steps_one_step_moved_gets_partial_credit_and_is_named():
    verdict = grade(WALK, ["a", "c", "d", "b", "e"], MODEL)
    assert (verdict.correct, verdict.score, verdict.misplaced) == (False, 0.8, "b")
    assert verdict.reason == "'B' comes right after 'A'."


def test_order_steps_first_step_moved_and_reversed():
    moved = grade(WALK, ["b", "c", "d", "e", "a"], MODEL)
    assert (moved.score, moved.misplaced, moved.reason) == (0.8, "a", "'A' comes first.")
    reversed_ = grade(WALK, ["e", "d", "c", "b", "a"], MODEL)
    assert reversed_.score == 0.2 and not reversed_.correct


@pytest.mark.parametrize("answer", [["a", "b", "c", "d"], ["a", "a", "b", "c", "d"], ["a", "b", "c", "d", "z"], "a"])
def test_order_steps_invalid_answers(answer):
    with pytest.raises(InvalidAnswer):
        grade(WALK, answer, MODEL)


@pytest.mark.parametrize("answer", ["propose-demo", "", None, ["send-offer"]])
def test_single_choice_invalid_answers(answer):
    with pytest.raises(InvalidAnswer):
        grade(next_step("alerted", "send-offer", "share-education"), answer, MODEL)
    with pytest.raises(InvalidAnswer):
        grade(which_stage("engaged"), answer, MODEL)
