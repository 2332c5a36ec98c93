from learnapp.domain.banks import PLACEHOLDER, csv_to_scenarios, gift_to_scenarios, parse_gift

GIFT = """// a comment line
::Early lead::Priya downloaded the brochure and decides next spring. What next? {
=Send her a short guide #Education fits months out
~Call with a discount #Too early
~Book a demo
}

::TF:: Offers always fit. {F}

What is the capital? {=Paris =Lyon}

::Essay:: Describe your process. {}

Escaped \\= sign in text {=Ask a question about their situation ~Send the contract}
"""


def test_gift_multiple_choice_is_parsed_and_other_types_are_reported_by_line():
    questions, problems = parse_gift(GIFT)
    assert [q.title for q in questions] == ["Early lead", ""]
    assert questions[0].answers == [(True, "Send her a short guide", "Education fits months out"),
                                    (False, "Call with a discount", "Too early"), (False, "Book a demo", "")]
    assert questions[1].text == "Escaped = sign in text"
    assert [(p.line, p.message.split(" ")[1]) for p in problems] == [(8, "true/false"), (10, "multiple-choice"), (12, "essay")]


def test_gift_answers_become_moves_from_the_mapping_or_a_placeholder():
    questions, _ = parse_gift(GIFT)
    files = gift_to_scenarios(questions, skill="days-out", stage="alerted",
                              mapping={"guide": "share-education", "discount": "send-offer"})
    name, text = files[0]
    assert name == "gift-early-lead.md"
    assert "- move: share-education\n  text: Send her a short guide" in text
    assert "- move: send-offer\n  text: Call with a discount" in text
    assert f"- move: {PLACEHOLDER}\n  text: Book a demo" in text
    assert "answer: share-education" in text and "explanation: Education fits months out Too early" in text


def test_csv_rows_become_scenarios_and_bad_rows_are_reported():
    text = ("id,skill,kind,stage,days_out,lead,prompt,move_1,text_1,move_2,text_2\n"
            "csv-one,days-out,next-step,alerted,120,Ana,What next?,share-education,Send a guide,send-offer,Offer\n"
            "csv-two,days-out,next-step,alerted,soon,Ana,What next?,share-education,Guide,send-offer,Offer\n"
            ",days-out,next-step,alerted,,,,,,,\n")
    files, problems = csv_to_scenarios(text)
    assert [name for name, _ in files] == ["csv-one.md"]
    assert "days_out: 120" in files[0][1] and "- move: send-offer\n  text: Offer" in files[0][1]
    assert [str(p) for p in problems] == ["line 3: days_out must be a whole number, got 'soon'",
                                          "line 4: id and prompt are required"]
    assert csv_to_scenarios("a,b\n1,2\n")[1][0].message.startswith("the header lacks id, skill, kind, prompt")


def test_a_csv_id_that_is_not_an_id_is_refused_rather_than_used_as_a_file_name():
    """The id names the file written under --out: "../../lessons/x" or "/etc/x" wrote outside it."""
    header = ",".join(["id", "skill", "kind", "stage", "days_out", "lead", "prompt", "move_1", "text_1", "move_2", "text_2"])
    rows = ["../../lessons/evil", "/tmp/evil", "sub/dir", "Upper-Case", "fine-one"]
    text = header + "\n" + "".join(f"{ident},days-out,next-step,alerted,120,Ana,What next?,share-education,Guide,"
                                   "send-offer,Offer\n" for ident in rows)
    files, problems = csv_to_scenarios(text)
    assert [name for name, _ in files] == ["fine-one.md"]
    assert [str(p) for p in problems] == [
        f"line {n}: id must be a lower-case id like 'follow-up-2' (letters, digits and hyphens), got {ident!r}"
        for n, ident in enumerate(rows[:-1], 2)]
