"""Content parsing and checking: every error is `path:line: message`, the shipped content is clean."""

from collections import Counter
from dataclasses import replace as with_fields
from pathlib import Path

import pytest

from learnapp.domain.content import (
    ContentError, lesson_to_markdown, load_content, load_texts, parse_scenario_text, scenario_to_markdown,
)
from learnapp.domain.model import Fit, Kind, Option, RuleEntry, Scenario

ROOT = Path(__file__).resolve().parents[2]

MOVES = """---
type: moves
moves:
  - id: educate
    name: Educate
  - id: ask
    name: Ask
  - id: follow-up
    name: Follow up
  - id: offer
    name: Offer
discovery_steps:
  - id: situation
    name: Situation
  - id: change
    name: Change
  - id: goals
    name: Goals
---
"""


def stage(ident, position, days, fit, premature=(), late=()):
    """A stage file. Line 8 is 'fit:' and each block lists one move per line: 'fit', 'premature', 'late'."""
    def block(name, moves):
        return f"{name}:\n" + "".join(f"  {m}: reason for {m} at {ident}\n" for m in moves) if moves else f"{name}: {{}}\n"
    return (f"---\ntype: stage\nid: {ident}\nname: {ident.title()}\nposition: {position}\ndays_out: {days}\n"
            f"signals: [a signal]\n" + block("fit", fit) + block("premature", premature) + block("late", late)
            + f"---\nAbout {ident}.\n")


LESSON = "---\ntype: lesson\nskill: pick\ntitle: Pick the step\nposition: 1\n---\nText.\n"
BASE = [
    ("lessons/moves.md", MOVES),
    ("lessons/stages/1.md", stage("early", 1, "[91, 365]", ["educate"], ["ask", "follow-up", "offer"])),
    ("lessons/stages/2.md", stage("middle", 2, "[15, 90]", ["ask", "follow-up"], ["offer"], ["educate"])),
    ("lessons/stages/3.md", stage("late", 3, "[0, 14]", ["offer"], [], ["educate", "ask", "follow-up"])),
    ("lessons/pick.md", LESSON),
]


def with_stage(number, text):
    """BASE with the file of stage ``number`` replaced by ``text``."""
    return [(p, text if p == f"lessons/stages/{number}.md" else t) for p, t in BASE]


NEXT_STEP = """---
id: s1
skill: pick
kind: next-step
stage: early
days_out: 120
options:
  - move: offer
    text: Send an offer.
  - move: educate
    text: Send a guide.
answer: educate
---
What now?
"""


def check(*docs, base=BASE):
    return load_texts(list(base) + [(p, t) for p, t in docs])


def errors_of(*docs, base=BASE):
    return [(e.path, e.line, e.message) for e in check(*docs, base=base).errors]


def one_error(*docs, base=BASE):
    errors = errors_of(*docs, base=base)
    assert len(errors) == 1, errors
    return errors[0]


def replace(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


# ---------------------------------------------------------------- a clean tree


def test_the_fixture_tree_is_clean():
    content = check()
    assert content.errors == []
    assert [m.id for m in content.model.moves] == ["educate", "ask", "follow-up", "offer"]
    assert [s.id for s in content.model.discovery_steps] == ["situation", "change", "goals"]


def test_a_clean_tree_parses_into_domain_objects():
    content = check(("scenarios/pick/s1.md", NEXT_STEP))
    assert content.ok
    assert [(s.id, s.position, s.days_min, s.days_max) for s in content.model.stages] == [
        ("early", 1, 91, 365), ("middle", 2, 15, 90), ("late", 3, 0, 14)]
    assert content.model.stage("middle").rule["educate"] == RuleEntry("educate", Fit.LATE, "reason for educate at middle")
    assert content.scenarios["s1"] == Scenario(
        id="s1", skill="pick", kind=Kind.NEXT_STEP, prompt="What now?",
        options=(Option("offer", "Send an offer."), Option("educate", "Send a guide.")),
        stage="early", days_out=120, path="scenarios/pick/s1.md")
    assert content.lessons["pick"].title == "Pick the step"


def test_error_prints_as_path_line_message():
    assert str(ContentError("scenarios/a.md", 7, "unknown move 'x'")) == "scenarios/a.md:7: unknown move 'x'"


# ---------------------------------------------------------------- files that cannot be read


@pytest.mark.parametrize("text, line, message", [
    ("id: x\n", 1, "missing front matter: the file must start with a line '---'"),
    ("---\nid: x\n", 1, "front matter is not closed: add a line '---' after it"),
    ("---\nid: [x\n---\nP\n", 2, "invalid YAML"),
    ("---\nid: x\nkind: : y\n---\nP\n", 3, "invalid YAML"),
    ("---\n- a\n- b\n---\nP\n", 2, "front matter must be a mapping of 'field: value' lines"),
    ("---\njust a sentence\n---\nP\n", 2, "front matter must be a mapping"),
    ("---\na: &x [1]\nb: *x\n---\nP\n", 3, "YAML aliases (*name) are not allowed in content"),
    ("", 1, "empty file"),
    ("  \n\n", 1, "empty file"),
    ("---\ntype: widget\n---\nP\n", 2, "unknown type 'widget' (one of: moves, stage, lesson, scenario)"),
])
def test_unreadable_files(text, line, message):
    path, got_line, got = one_error(("scenarios/x.md", text))
    assert (path, got_line) == ("scenarios/x.md", line) and message in got


def test_binary_non_utf8_and_huge_files():
    assert one_error(("scenarios/b.md", b"---\x00\x01")) == (
        "scenarios/b.md", 1, "binary file (it contains NUL bytes): content must be UTF-8 text")
    assert one_error(("scenarios/e.md", b"")) == ("scenarios/e.md", 1, "empty file")
    assert one_error(("scenarios/u.md", b"---\nid: x\nlead: \xff\n---\n")) == (
        "scenarios/u.md", 3, "not UTF-8 text (byte 0xff at offset 16); save the file as UTF-8")
    assert one_error(("scenarios/h.md", "---\n" + "x" * 300_000)) == (
        "scenarios/h.md", 1, "file is 300,004 bytes; the limit is 256 KB (262,144 bytes)")


def test_256_kb_is_the_exact_limit():
    padded = LESSON.replace("Text.", "Text.\n") + "x" * (256 * 1024 - len(LESSON) - 1)
    assert len(padded.encode()) == 256 * 1024
    assert check(("lessons/pick.md", padded), base=BASE[:-1]).ok
    path, line, message = one_error(("lessons/pick.md", padded + "x"), base=BASE[:-1])
    assert (path, line, message) == ("lessons/pick.md", 1, "file is 262,145 bytes; the limit is 256 KB (262,144 bytes)")


def test_alias_bomb_is_refused_without_expanding_it():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\nP\n"
    assert one_error(("scenarios/bomb.md", bomb)) == ("scenarios/bomb.md", 3, "YAML aliases (*name) are not allowed in content")


def test_a_file_outside_scenarios_needs_a_type():
    assert one_error(("lessons/x.md", "---\nskill: x\n---\nP\n")) == (
        "lessons/x.md", 2, "missing field 'type' (one of: moves, stage, lesson, scenario)")


# ---------------------------------------------------------------- scenario errors


@pytest.mark.parametrize("old, new, line, message", [
    ("skill: pick", "skill: pik", 3, "unknown skill 'pik' (known: pick)"),
    ("stage: early", "stage: earli", 5, "unknown stage 'earli' (known: early, middle, late)"),
    ("  - move: offer", "  - move: ofer", 8, "unknown move 'ofer' (known: educate, ask, follow-up, offer)"),
    ("kind: next-step", "kind: essay", 4, "unknown kind 'essay'"),
    ("days_out: 120", "days_out: 30", 6, "days_out 30 is outside stage 'early' (91 to 365)"),
    ("answer: educate", "answer: offer", 12,
     "answer 'offer' contradicts the rule of stage 'early': offer is premature there (reason for offer at early)"),
    ("answer: educate", "anwser: educate", 12, "unknown field 'anwser' for a scenario"),
    ("id: s1\n", "", 2, "missing field 'id'"),
    ("    text: Send a guide.\n", "    text: ''\n", 10, "'text' must be non-empty text"),
    ("  - move: offer\n    text: Send an offer.\n", "", 7, "1 options; a scenario of this kind needs 2 to 6"),
    ("  - move: educate\n    text: Send a guide.\nanswer: educate\n", "  - move: ask\n    text: Ask.\n", 7,
     "no option fits stage 'early' under its rule; one option's move must fit"),
])
def test_scenario_errors_point_at_the_line(old, new, line, message):
    path, got_line, got = one_error(("scenarios/pick/s1.md", replace(NEXT_STEP, old, new)))
    assert (path, got_line) == ("scenarios/pick/s1.md", line) and message in got


def test_next_step_with_two_fitting_options_is_ambiguous():
    text = replace(replace(NEXT_STEP, "stage: early\ndays_out: 120", "stage: middle\ndays_out: 30"),
                   "  - move: offer\n    text: Send an offer.\n  - move: educate\n    text: Send a guide.\nanswer: educate\n",
                   "  - move: ask\n    text: Ask.\n  - move: follow-up\n    text: Follow up.\n")
    assert one_error(("scenarios/pick/s1.md", text)) == (
        "scenarios/pick/s1.md", 7, "ambiguous: ask, follow-up all fit stage 'middle'; keep exactly one fitting option")


def test_an_answer_that_is_late_under_the_rule_is_refused_with_the_reason():
    text = replace(NEXT_STEP, "stage: early\ndays_out: 120", "stage: late\ndays_out: 5")
    assert one_error(("scenarios/pick/s1.md", text)) == (
        "scenarios/pick/s1.md", 12,
        "answer 'educate' contradicts the rule of stage 'late': educate is late there (reason for educate at late)")


def test_duplicate_ids_are_reported_on_the_second_file_naming_the_first():
    assert one_error(("scenarios/pick/a.md", NEXT_STEP), ("scenarios/pick/b.md", NEXT_STEP)) == (
        "scenarios/pick/b.md", 2, "duplicate scenario id 's1' (also in scenarios/pick/a.md)")


WHICH = "---\nid: w1\nskill: pick\nkind: which-stage\nstage: late\ndays_out: 5\noptions:\n  - stage: early\n  - stage: late\n---\nWhere?\n"


def test_which_stage_checks_days_and_options():
    content = check(("scenarios/pick/w1.md", WHICH))
    assert content.ok and [o.text for o in content.scenarios["w1"].options] == ["Early", "Late"]
    assert one_error(("scenarios/pick/w1.md", replace(WHICH, "days_out: 5", "days_out: 50"))) == (
        "scenarios/pick/w1.md", 6, "days_out 50 is outside stage 'late' (0 to 14)")
    assert "'late' is not among the options" in one_error(("scenarios/pick/w1.md", replace(WHICH, "  - stage: late", "  - stage: middle")))[2]
    assert one_error(("scenarios/pick/w1.md", replace(WHICH, "---\nWhere", "answer: early\n---\nWhere"))) == (
        "scenarios/pick/w1.md", 10, "answer 'early' contradicts 'stage: late'")


ORDER = ("---\nid: o1\nskill: pick\nkind: order-steps\norder_by: discovery\nsteps:\n  - step: situation\n    text: S\n"
         "  - step: change\n    text: C\n  - step: goals\n    text: G\n---\nOrder.\n")
JOURNEY = ("---\nid: j1\nskill: pick\nkind: order-steps\norder_by: stages\nsteps:\n  - move: educate\n    text: E\n"
           "  - move: ask\n    text: A\n  - move: offer\n    text: O\n---\nOrder.\n")


def test_order_steps_in_the_right_order_are_clean():
    content = check(("scenarios/pick/o1.md", ORDER), ("scenarios/pick/j1.md", JOURNEY))
    assert content.ok
    assert [o.key for o in content.scenarios["o1"].options] == ["situation", "change", "goals"]
    assert (content.scenarios["j1"].order_by, [o.key for o in content.scenarios["j1"].options]) == (
        "stages", ["educate", "ask", "offer"])


def test_order_steps_must_be_written_in_the_right_order():
    swapped = ORDER.replace("situation", "TMP").replace("change", "situation").replace("TMP", "change")
    assert one_error(("scenarios/pick/o1.md", swapped)) == (
        "scenarios/pick/o1.md", 9, "steps are not in the right order: 'situation' cannot follow 'change' (the discovery walk)")
    wrong_journey = JOURNEY.replace("move: educate", "move: TMP").replace("move: offer", "move: educate").replace("move: TMP", "move: offer")
    assert errors_of(("scenarios/pick/j1.md", wrong_journey)) == [
        ("scenarios/pick/j1.md", 9, "steps are not in the right order: 'ask' cannot follow 'offer' (the stages where they fit)"),
        ("scenarios/pick/j1.md", 11, "steps are not in the right order: 'educate' cannot follow 'ask' (the stages where they fit)"),
    ]


def test_order_steps_by_stages_refuses_two_moves_that_first_fit_the_same_stage():
    text = replace(JOURNEY, "move: offer", "move: follow-up")
    assert one_error(("scenarios/pick/j1.md", text)) == (
        "scenarios/pick/j1.md", 11, "'follow-up' and 'ask' first fit the same stage; their order is ambiguous")


def test_order_steps_unknown_step_and_order():
    path, line, message = one_error(("scenarios/pick/o1.md", ORDER.replace("step: goals", "step: goalz")))
    assert (path, line) == ("scenarios/pick/o1.md", 11)
    assert message == "unknown discovery step 'goalz' (known: situation, change, goals)"
    assert one_error(("scenarios/pick/o1.md", ORDER.replace("discovery", "alphabet"))) == (
        "scenarios/pick/o1.md", 5, "'order_by' must be one of: discovery, stages")


# ---------------------------------------------------------------- stage rules


def test_a_stage_rule_must_classify_every_move():
    missing = with_stage(2, stage("middle", 2, "[15, 90]", ["ask", "follow-up"], [], ["educate"]))
    assert one_error(base=missing) == (
        "lessons/stages/2.md", 8, "move 'offer' is not classified: add it under fit, premature or late")


def test_a_premature_move_must_fit_a_later_stage():
    wrong_way = with_stage(3, stage("late", 3, "[0, 14]", ["offer"], ["educate"], ["ask", "follow-up"]))
    assert one_error(base=wrong_way) == ("lessons/stages/3.md", 11, "'educate' is premature here but fits no later stage")


def test_a_late_move_must_fit_an_earlier_stage():
    wrong_way = with_stage(1, stage("early", 1, "[91, 365]", ["educate"], ["ask", "follow-up"], ["offer"]))
    assert one_error(base=wrong_way) == ("lessons/stages/1.md", 14, "'offer' is late here but fits no earlier stage")


def test_days_out_ranges_must_not_overlap():
    overlap = with_stage(2, stage("middle", 2, "[15, 120]", ["ask", "follow-up"], ["offer"], ["educate"]))
    assert one_error(base=overlap) == (
        "lessons/stages/2.md", 6,
        "days_out [15, 120] overlaps or comes before stage 'early' [91, 365]: later stages are closer to the purchase")


# ---------------------------------------------------------------- bad content that once raised instead of reporting


@pytest.mark.parametrize("scenario", [
    replace(replace(replace(NEXT_STEP, "stage: early\ndays_out: 120", "stage: middle\ndays_out: 30"),
                    "move: educate", "move: ask"), "answer: educate\n", ""),
    JOURNEY,
], ids=["next-step", "order-steps-by-stages"])
def test_a_scenario_using_a_move_missing_from_a_stage_rule_is_reported_not_raised(scenario):
    missing = with_stage(2, stage("middle", 2, "[15, 90]", ["ask", "follow-up"], [], ["educate"]))
    errors = errors_of(("scenarios/pick/s.md", scenario), base=missing)
    assert ("lessons/stages/2.md", 8, "move 'offer' is not classified: add it under fit, premature or late") in errors


@pytest.mark.parametrize("text, line", [
    ("---\ntype: [lesson]\nskill: x\ntitle: T\n---\nP\n", 2),
    (replace(NEXT_STEP, "answer: educate", "answer: [offer]"), 12),
], ids=["type-list", "answer-list"])
def test_a_list_where_a_name_belongs_is_reported_not_raised(text, line):
    path, got_line, _ = one_error(("scenarios/pick/x.md", text))
    assert (path, got_line) == ("scenarios/pick/x.md", line)


# ---------------------------------------------------------------- the live editor


def test_parse_scenario_text_for_the_live_editor():
    model = check().model
    scenario, errors = parse_scenario_text(NEXT_STEP, "editor", model, ["pick"])
    assert errors == [] and scenario == with_fields(check(("scenarios/pick/s1.md", NEXT_STEP)).scenarios["s1"], path="editor")
    scenario, errors = parse_scenario_text(replace(NEXT_STEP, "move: offer", "move: x"), "editor", model, ["pick"])
    assert scenario is None
    assert [(e.path, e.line, e.message) for e in errors] == [
        ("editor", 8, "unknown move 'x' (known: educate, ask, follow-up, offer)")]
    scenario, errors = parse_scenario_text(LESSON, "editor", model, ["pick"])
    assert scenario is None and [(e.line, e.message) for e in errors] == [(2, "this editor takes scenarios only (type: scenario)")]


# ---------------------------------------------------------------- the shipped content

SHIPPED = load_content([ROOT / "lessons", ROOT / "scenarios"])


def test_shipped_content_is_clean_and_complete():
    assert [str(e) for e in SHIPPED.errors] == []
    assert len(SHIPPED.lessons) >= 8 and len(SHIPPED.scenarios) >= 40
    per_skill = Counter(s.skill for s in SHIPPED.scenarios.values())
    assert set(per_skill) == set(SHIPPED.lessons) and min(per_skill.values()) >= 4
    assert {s.kind for s in SHIPPED.scenarios.values()} == set(Kind)


@pytest.mark.parametrize("scenario_id", sorted(SHIPPED.scenarios))
def test_export_then_parse_gives_the_same_scenario(scenario_id):
    scenario = SHIPPED.scenarios[scenario_id]
    text = scenario_to_markdown(scenario, SHIPPED.model)
    again, errors = parse_scenario_text(text, "exported.md", SHIPPED.model, SHIPPED.lessons)
    assert errors == [] and with_fields(again, path=scenario.path) == scenario


@pytest.mark.parametrize("skill", sorted(SHIPPED.lessons))
def test_export_then_parse_gives_the_same_lesson(skill):
    lesson = SHIPPED.lessons[skill]
    again = load_texts([("exported.md", lesson_to_markdown(lesson))], context=SHIPPED)
    assert again.errors == [] and with_fields(again.lessons[skill], path=lesson.path) == lesson
