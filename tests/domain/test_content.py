"""Content parsing and checking: every error is `path:line: message`, the shipped content is clean."""

from collections import Counter
from pathlib import Path

import pytest

from learnapp.domain.content import (
    ContentError, lesson_to_markdown, load_content, load_texts, parse_scenario_text, scenario_to_markdown,
)
from learnapp.domain.model import Kind

ROOT = Path(__file__).resolve().parents[2]

MOVES = """---
type: moves
moves:
  - id: educate
    name: Educate
  - id: ask
    name: Ask
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
    def block(name, moves):
        return f"{name}:\n" + "".join(f"  {m}: reason for {m} at {ident}\n" for m in moves) if moves else f"{name}: {{}}\n"
    return (f"---\ntype: stage\nid: {ident}\nname: {ident.title()}\nposition: {position}\ndays_out: {days}\n"
            f"signals: [a signal]\n" + block("fit", fit) + block("premature", premature) + block("late", late)
            + f"---\nAbout {ident}.\n")


LESSON = "---\ntype: lesson\nskill: pick\ntitle: Pick the step\nposition: 1\n---\nText.\n"
BASE = [
    ("lessons/moves.md", MOVES),
    ("lessons/stages/1.md", stage("early", 1, "[91, 365]", ["educate"], ["ask", "offer"])),
    ("lessons/stages/2.md", stage("middle", 2, "[15, 90]", ["ask"], ["offer"], ["educate"])),
    ("lessons/stages/3.md", stage("late", 3, "[0, 14]", ["offer"], [], ["educate", "ask"])),
    ("lessons/pick.md", LESSON),
]

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


def test_a_clean_tree_parses_into_domain_objects():
    content = check(("scenarios/pick/s1.md", NEXT_STEP))
    assert content.ok
    assert [s.id for s in content.model.stages] == ["early", "middle", "late"]
    scenario = content.scenarios["s1"]
    assert (scenario.kind, scenario.stage, scenario.days_out, scenario.prompt) == (Kind.NEXT_STEP, "early", 120, "What now?")
    assert [(o.key, o.text) for o in scenario.options] == [("offer", "Send an offer."), ("educate", "Send a guide.")]
    assert content.lessons["pick"].title == "Pick the step"


def test_error_prints_as_path_line_message():
    assert str(ContentError("scenarios/a.md", 7, "unknown move 'x'")) == "scenarios/a.md:7: unknown move 'x'"


@pytest.mark.parametrize("text, line, message", [
    ("id: x\n", 1, "missing front matter"),
    ("---\nid: x\n", 1, "front matter is not closed"),
    ("---\nid: [x\n---\nP\n", 2, "invalid YAML"),
    ("---\nid: x\nkind: : y\n---\nP\n", 3, "invalid YAML"),
    ("---\n- a\n- b\n---\nP\n", 2, "front matter must be a mapping"),
    ("---\na: &x [1, 2]\nb: *x\n---\nP\n", 3, "YAML aliases"),
    ("", 1, "empty file"),
    ("  \n\n", 1, "empty file"),
    ("---\ntype: widget\n---\nP\n", 2, "unknown type 'widget'"),
])
def test_unreadable_files(text, line, message):
    path, got_line, got = one_error(("scenarios/x.md", text))
    assert (path, got_line) == ("scenarios/x.md", line) and message in got


def test_binary_non_utf8_and_huge_files():
    assert one_error(("scenarios/b.md", b"---\x00\x01"))[1:] == (1, "binary file (it contains NUL bytes): content must be UTF-8 text")
    path, line, message = one_error(("scenarios/u.md", b"---\nid: x\nlead: \xff\n---\n"))
    assert line == 3 and message.startswith("not UTF-8 text")
    path, line, message = one_error(("scenarios/h.md", "---\n" + "x" * 300_000))
    assert line == 1 and "the limit is 256 KB" in message


def test_alias_bomb_is_refused_without_expanding_it():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\nP\n"
    assert "YAML aliases" in one_error(("scenarios/bomb.md", bomb))[2]


def replace(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("old, new, line, message", [
    ("skill: pick", "skill: pik", 3, "unknown skill 'pik' (known: pick)"),
    ("stage: early", "stage: earli", 5, "unknown stage 'earli'"),
    ("  - move: offer", "  - move: ofer", 8, "unknown move 'ofer' (known: educate, ask, offer)"),
    ("kind: next-step", "kind: essay", 4, "unknown kind 'essay'"),
    ("days_out: 120", "days_out: 30", 6, "days_out 30 is outside stage 'early' (91 to 365)"),
    ("answer: educate", "answer: offer", 12,
     "answer 'offer' contradicts the rule of stage 'early': offer is premature there (reason for offer at early)"),
    ("answer: educate", "anwser: educate", 12, "unknown field 'anwser'"),
    ("id: s1\n", "", 2, "missing field 'id'"),
    ("    text: Send a guide.\n", "    text: ''\n", 10, "'text' must be non-empty text"),
])
def test_scenario_errors_point_at_the_line(old, new, line, message):
    path, got_line, got = one_error(("scenarios/pick/s1.md", replace(NEXT_STEP, old, new)))
    assert (path, got_line) == ("scenarios/pick/s1.md", line) and message in got


def test_next_step_needs_exactly_one_fitting_option():
    none_fit = replace(NEXT_STEP, "  - move: educate\n    text: Send a guide.\nanswer: educate\n", "  - move: ask\n    text: Ask.\n")
    assert "no option fits stage 'early'" in one_error(("scenarios/pick/s1.md", none_fit))[2]
    two_fit = replace(replace(NEXT_STEP, "stage: early\ndays_out: 120", "stage: middle"), "  - move: offer", "  - move: ask")
    two_fit = replace(two_fit, "answer: educate\n", "")
    model_with_two = [(p, t.replace("fit:\n  ask:", "fit:\n  offer: reason\n  ask:") if p.endswith("2.md") else t) for p, t in BASE]
    model_with_two = [(p, t.replace("premature:\n  offer: reason for offer at middle\n", "premature: {}\n")) for p, t in model_with_two]
    two = replace(two_fit, "  - move: ask\n    text: Send an offer.", "  - move: ask\n    text: Ask.\n  - move: offer\n    text: Offer.")
    assert "ambiguous: ask, offer all fit stage 'middle'" in one_error(("scenarios/pick/s1.md", two), base=model_with_two)[2]


def test_too_few_options():
    text = replace(NEXT_STEP, "  - move: offer\n    text: Send an offer.\n", "")
    assert "1 options; a scenario of this kind needs 2 to 6" in one_error(("scenarios/pick/s1.md", text))[2]


def test_duplicate_ids_are_reported_on_the_second_file_naming_the_first():
    path, line, message = one_error(("scenarios/pick/a.md", NEXT_STEP), ("scenarios/pick/b.md", NEXT_STEP))
    assert (path, line) == ("scenarios/pick/b.md", 2) and "duplicate scenario id 's1' (also in scenarios/pick/a.md)" in message


WHICH = "---\nid: w1\nskill: pick\nkind: which-stage\nstage: late\ndays_out: 5\noptions:\n  - stage: early\n  - stage: late\n---\nWhere?\n"


def test_which_stage_checks_days_and_options():
    content = check(("scenarios/pick/w1.md", WHICH))
    assert content.ok and [o.text for o in content.scenarios["w1"].options] == ["Early", "Late"]
    assert "outside stage 'late'" in one_error(("scenarios/pick/w1.md", replace(WHICH, "days_out: 5", "days_out: 50")))[2]
    assert "'late' is not among the options" in one_error(("scenarios/pick/w1.md", replace(WHICH, "  - stage: late", "  - stage: middle")))[2]


ORDER = ("---\nid: o1\nskill: pick\nkind: order-steps\norder_by: discovery\nsteps:\n  - step: situation\n    text: S\n"
         "  - step: change\n    text: C\n  - step: goals\n    text: G\n---\nOrder.\n")
JOURNEY = ("---\nid: j1\nskill: pick\nkind: order-steps\norder_by: stages\nsteps:\n  - move: educate\n    text: E\n"
           "  - move: ask\n    text: A\n  - move: offer\n    text: O\n---\nOrder.\n")


def test_order_steps_must_be_written_in_the_right_order():
    assert check(("scenarios/pick/o1.md", ORDER), ("scenarios/pick/j1.md", JOURNEY)).ok
    swapped = ORDER.replace("situation", "TMP").replace("change", "situation").replace("TMP", "change")
    path, line, message = one_error(("scenarios/pick/o1.md", swapped))
    assert line == 9 and "'situation' cannot follow 'change'" in message
    wrong_journey = JOURNEY.replace("move: educate", "move: TMP").replace("move: offer", "move: educate").replace("move: TMP", "move: offer")
    assert [line for _, line, m in errors_of(("scenarios/pick/j1.md", wrong_journey)) if "cannot follow" in m] == [9, 11]
    unknown = ORDER.replace("step: goals", "step: goalz")
    assert "unknown discovery step 'goalz'" in one_error(("scenarios/pick/o1.md", unknown))[2]
    assert "'order_by' must be one of" in one_error(("scenarios/pick/o1.md", ORDER.replace("discovery", "alphabet")))[2]


def test_stage_rules_are_complete_and_consistent():
    missing = [(p, t.replace("  offer: reason for offer at middle\n", "") if p.endswith("2.md") else t) for p, t in BASE]
    path, line, message = one_error(base=missing)
    assert path == "lessons/stages/2.md" and "move 'offer' is not classified" in message
    wrong_way = [(p, t.replace("late:\n  educate", "premature:\n  educate") if p.endswith("3.md") else t) for p, t in BASE]
    assert any("'educate'" in m and ("premature here but fits no later stage" in m or "listed as" in m)
               for _, _, m in errors_of(base=wrong_way))
    overlap = [(p, t.replace("[15, 90]", "[15, 120]")) for p, t in BASE]
    path, line, message = one_error(base=overlap)
    assert (path, line) == ("lessons/stages/2.md", 6) and "overlaps" in message


def test_parse_scenario_text_for_the_live_editor():
    model = check().model
    scenario, errors = parse_scenario_text(NEXT_STEP, "editor", model, ["pick"])
    assert errors == [] and scenario.id == "s1"
    scenario, errors = parse_scenario_text(replace(NEXT_STEP, "move: offer", "move: x"), "editor", model, ["pick"])
    assert scenario is None and [(e.line, e.message.split(" (")[0]) for e in errors] == [(8, "unknown move 'x'")]


# ---------------------------------------------------------------- the shipped content

SHIPPED = load_content([ROOT / "lessons", ROOT / "scenarios"])


def test_shipped_content_is_clean_and_complete():
    assert SHIPPED.errors == []
    assert len(SHIPPED.lessons) >= 8 and len(SHIPPED.scenarios) >= 40
    per_skill = Counter(s.skill for s in SHIPPED.scenarios.values())
    assert set(per_skill) == set(SHIPPED.lessons) and min(per_skill.values()) >= 4
    assert {s.kind for s in SHIPPED.scenarios.values()} == set(Kind)


@pytest.mark.parametrize("scenario_id", sorted(SHIPPED.scenarios))
def test_export_then_parse_gives_the_same_scenario(scenario_id):
    scenario = SHIPPED.scenarios[scenario_id]
    text = scenario_to_markdown(scenario, SHIPPED.model)
    again, errors = parse_scenario_text(text, scenario.path, SHIPPED.model, SHIPPED.lessons)
    assert errors == [] and again == scenario


@pytest.mark.parametrize("skill", sorted(SHIPPED.lessons))
def test_export_then_parse_gives_the_same_lesson(skill):
    lesson = SHIPPED.lessons[skill]
    again = load_texts([(lesson.path, lesson_to_markdown(lesson))], context=SHIPPED).lessons[skill]
    assert again == lesson
