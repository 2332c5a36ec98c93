"""Reading a people list (CSV) without a database: every problem with its line, nothing half-read."""

from learnapp.domain.people_csv import parse


def _where(problems):
    return [p.where("team.csv") for p in problems]


def test_a_list_is_read_with_defaults_and_tidied():
    text = ("Email,NAME,role,team,timezone\n"
            "Ana.Lopez@Example.com,  Ana   López ,,Field North,Europe/Madrid\n"
            "\n"
            '"ben@example.com","Okafor, Ben",Manager,  Field  North ,\n'
            "cy@example.com,Cy,trainer,,\n")
    people, problems = parse(text, default_timezone="Europe/Berlin")
    assert problems == []
    assert [(p.line, p.email, p.name, p.role, p.team, p.timezone) for p in people] == [
        (2, "ana.lopez@example.com", "Ana López", "rep", "Field North", "Europe/Madrid"),
        (4, "ben@example.com", "Okafor, Ben", "manager", "Field North", "Europe/Berlin"),
        (5, "cy@example.com", "Cy", "trainer", None, "Europe/Berlin"),
    ]


def test_semicolons_as_spreadsheets_save_them_in_some_languages_and_columns_in_any_order():
    people, problems = parse("\ufeffname;email\nDora;dora@example.com\n".lstrip("\ufeff"))
    assert problems == [] and [(p.name, p.email, p.role, p.timezone) for p in people] == [("Dora", "dora@example.com", "rep", "UTC")]


def test_every_bad_line_is_reported_with_its_number():
    text = ("email,name,role,team,timezone\n"
            "not-an-email,A,rep,,\n"
            "b@example.com,,rep,,\n"
            "c@example.com,C,boss,,\n"
            "d@example.com,D,rep,,Mars/Base\n"
            "e@example.com,E,rep,,\n"
            "E@example.com,E again,rep,,\n"
            "f@example.com,F,rep,,UTC,extra\n"
            f"g@example.com,{'G' * 121},rep,,\n"
            "h@example.com,H,rep,,localtime\n")
    people, problems = parse(text)
    assert _where(problems) == [
        "team.csv:2: 'not-an-email' is not an email address",
        "team.csv:3: no name for b@example.com",
        "team.csv:4: unknown role 'boss' (one of: rep, trainer, manager, admin)",
        "team.csv:5: unknown timezone 'Mars/Base' (an IANA name such as Europe/Berlin)",
        "team.csv:7: e@example.com is listed already, on line 6",
        "team.csv:8: 6 values for 5 columns (a comma inside a name needs the name in double quotes)",
        "team.csv:9: the name has more than 120 characters",
        "team.csv:10: unknown timezone 'localtime' (an IANA name such as Europe/Berlin)",
    ]


def test_a_bad_header_or_an_empty_file_stops_at_once():
    assert _where(parse("")[1]) == ["team.csv: the file is empty: its first line names the columns, e.g. email,name,role,team,timezone"]
    assert _where(parse("mail,name\nx@example.com,X\n")[1]) == [
        "team.csv:1: unknown column 'mail'; the columns are email, name, role, team, timezone",
        "team.csv:1: no email column: the first line names the columns, e.g. email,name,role,team,timezone"]
    assert _where(parse("email,name,email\n")[1]) == ["team.csv:1: column email named twice"]
    assert _where(parse("email,name\n\n")[1]) == ["team.csv: the file lists nobody: after the first line, one person per line"]
    people, problems = parse('email,name\n"a@example.com,A\n')
    assert people == [] and problems and problems[0].line >= 2


# -- review: defects ------------------------------------------------------------------------------------------


def test_a_nul_or_control_character_is_a_problem_of_its_line():
    """The web form refuses NUL (app._no_nul_bytes) but an uploaded file is not a form value: PostgreSQL then
    fails the insert (a 500), SQLite stores it."""
    for bad in ("ana@example.com,An\x00a\n", "an\x00a@example.com,Ana\n", "ana@example.com,Ana,rep,No\x00rth\n",
                "ana@example.com,An\x07a\n"):
        people, problems = parse("email,name,role,team\n" + bad)
        assert people == [] and problems, repr(bad)
        assert [p.line for p in problems] == [2], (repr(bad), problems)


def test_a_quoted_value_over_several_lines_is_reported_at_the_line_it_starts_on():
    text = 'email,name\n"ana@example.com","Ana\nLópez"\nnope,Nope\n'
    people, problems = parse(text)
    assert [p.name for p in people] == ["Ana López"]
    assert [(p.line, p.message) for p in problems] == [(4, "'nope' is not an email address")]
    _, problems = parse('email,name\n"bad\naddress",X\n')
    assert [p.line for p in problems] == [2]  # where the admin finds the record, not where it ends


def test_a_huge_file_of_bad_lines_reports_a_bounded_number_of_problems():
    people, problems = parse("email,name\n" + "nope,Nope\n" * 100_000)
    assert people == [] and 0 < len(problems) <= 101, len(problems)


def test_empty_columns_a_spreadsheet_saves_after_the_last_one_are_ignored():
    """A spreadsheet that once had something in a column past the last one saves a trailing separator on every
    line: the import refused the file with "unknown column ''", which named nothing the admin could find."""
    text = "Email;Name;Role;Team;;\r\nzed@example.com;Zed Zulu;rep;North;;\r\nkim@example.com;Kim Lee;;;;\r\n"
    people, problems = parse(text)
    assert problems == [] and [(p.email, p.role, p.team) for p in people] == [
        ("zed@example.com", "rep", "North"), ("kim@example.com", "rep", None)]
    # a value under a column without a name is not silently dropped
    people, problems = parse("email,name,\nann@example.com,Ann,Sales\n")
    assert _where(problems) == ["team.csv:2: a value ('Sales') in column 3, which the first line does not name: "
                                "name the column (email, name, role, team, timezone) or empty it"]


def test_every_problem_of_a_line_is_named_not_only_its_first():
    """A line with a mistyped role and a mistyped timezone named only the role: fixed and imported again, the
    same line was refused for its timezone."""
    people, problems = parse("email,name,role,team,timezone\nlee@example.com,Lee,sales,,Europe/Berln\n")
    assert people == [] and _where(problems) == [
        "team.csv:2: unknown role 'sales' (one of: rep, trainer, manager, admin)",
        "team.csv:2: unknown timezone 'Europe/Berln' (an IANA name such as Europe/Berlin)"]
