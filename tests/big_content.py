"""A content set the size of a large company's (pure: no app), for the tests and bench/big_content.py."""

from __future__ import annotations

import yaml


def big_content(root, moves: int = 120, stages: int = 12, skills: int = 40, per_skill: int = 10):
    """A valid content set the size of a large company's, written under ``root``: (lessons, scenarios).

    ``moves`` moves, each fitting one stage (spread evenly over ``stages`` stages, each of whose rules names every move
    with a one-line reason), ``skills`` lessons of about 300 words, and ``per_skill`` scenarios per skill (next-step
    mostly, a which-stage and an order-steps among them). Texts are as long as real ones, not padding.
    """
    lessons, scenarios = root / "lessons", root / "scenarios"
    (lessons / "stages").mkdir(parents=True)
    scenarios.mkdir()

    def write(path, front: dict, body: str) -> None:
        path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10_000)
                        + "---\n" + body + "\n", encoding="utf-8")

    move_ids = [f"move-{m:03d}-follow-up-on-the-request" for m in range(moves)]
    home = {move: m % stages for m, move in enumerate(move_ids)}  # the stage (index) each move fits
    write(lessons / "moves.md", {"type": "moves", "moves": [
        {"id": move, "name": f"Move {m}: follow up on what the buyer asked for",
         "description": f"Move {m}: send the buyer what they asked for in their last message, with one sentence on why "
                        f"it matters to their project, and agree on the next call before hanging up."}
        for m, move in enumerate(move_ids)], "discovery_steps": [
        {"id": step, "name": step.replace("-", " ").capitalize()} for step in
        ("current-situation", "desired-change", "goals-and-expectations", "gaps-and-obstacles",
         "educate-on-options", "answer-when-asked")]}, "The catalogue of a large sales organisation.")
    width = 80
    ranges = [(1000 - width * (s + 1) + 1, 1000 - width * s) for s in range(stages)]
    stage_ids = [f"stage-{s + 1:02d}" for s in range(stages)]
    skill_ids = [f"skill-{k + 1:02d}" for k in range(skills)]
    for s, stage in enumerate(stage_ids):
        rule = {"fit": {}, "premature": {}, "late": {}}
        for move in move_ids:
            fit = "fit" if home[move] == s else "premature" if home[move] > s else "late"
            rule[fit][move] = (f"At stage {s + 1} this move {'fits' if fit == 'fit' else 'comes too ' + ('early' if fit == 'premature' else 'late')}: "
                               f"the buyer's questions now are about something else, and answering them first keeps their trust.")
        write(lessons / "stages" / f"{s + 1:02d}-{stage}.md",
              {"type": "stage", "id": stage, "name": f"Stage {s + 1}", "position": s + 1, "days_out": list(ranges[s]),
               "signals": [f"Signal {n} of stage {s + 1}" for n in range(3)], "lesson": skill_ids[s % skills], **rule},
              f"What stage {s + 1} feels like for the buyer. " * 20)
    paragraph = "A rep who reads the buyer's signals before choosing a move keeps the conversation where the buyer is. "
    for k, skill in enumerate(skill_ids):
        write(lessons / f"{skill}.md", {"type": "lesson", "skill": skill, "title": f"Skill {k + 1}: read the signals",
                                        "position": k + 1, "summary": f"One line about skill {k + 1}."},
              "\n\n".join(paragraph * 4 for _ in range(5)))
        folder = scenarios / skill
        folder.mkdir()
        for v in range(per_skill):
            s = (k + v) % stages
            ident = f"{skill}-case-{v + 1:02d}"
            front = {"id": ident, "skill": skill, "lead": "Priya", "days_out": ranges[s][0] + 5,
                     "signals": [f"Signal {v} of stage {s + 1}"]}
            if v == per_skill - 1:  # one order-steps item per skill: moves of three stages, in the journey's order
                front.pop("days_out")
                chosen = [next(m for m in move_ids if home[m] == t) for t in (0, stages // 2, stages - 1)]
                front.update(kind="order-steps", order_by="stages",
                             steps=[{"move": m, "text": f"Do {m} now."} for m in chosen])
            elif v == per_skill - 2:  # and one which-stage item
                front.pop("days_out")
                others = [stage_ids[(s + d) % stages] for d in (1, 2, 3)]
                front.update(kind="which-stage", stage=stage_ids[s],
                             options=[{"stage": o} for o in sorted([stage_ids[s], *others])])
            else:
                fitting = [m for m in move_ids if home[m] == s]
                wrong = [m for m in move_ids if home[m] != s]
                options = [fitting[v % len(fitting)], *(wrong[(k * 7 + v * 3 + d * 11) % len(wrong)] for d in range(3))]
                front.update(kind="next-step", stage=stage_ids[s],
                             options=[{"move": m, "text": f"Option for {m}: a sentence a rep would say."} for m in options],
                             answer=options[0], explanation="Why this move fits the buyer's stage, in two sentences. "
                                                            "The others come too early or too late.")
            write(folder / f"{ident}.md", front, f"Priya, case {v + 1} of {skill}: she wrote to us today. What is your next step?")
    return lessons, scenarios
