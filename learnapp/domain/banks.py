"""Converting existing question banks (Moodle GIFT, CSV) into scenario files.

Pure: text in, (file name, Markdown) pairs and line-numbered problems out. Answers become options
tagged with a move: a mapping given by the trainer ("fragment of the answer text" -> move id), or the
placeholder ``TODO-move`` that ``content check`` reports until the trainer fills it in.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import yaml

from learnapp.domain.content import ID_PATTERN, MAX_ID

PLACEHOLDER = "TODO-move"
CSV_HEADER = ["id", "skill", "kind", "stage", "days_out", "lead", "prompt"] + [
    f"{part}_{n}" for n in range(1, 7) for part in ("move", "text")]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class GiftQuestion:
    line: int
    title: str
    text: str
    answers: list[tuple[bool, str, str]] = field(default_factory=list)  # (right, text, feedback)


def _unescape(text: str) -> str:
    return re.sub(r"\\([~=#{}:])", r"\1", text).strip()


def _split_unescaped(text: str, chars: str) -> list[tuple[str, str]]:
    """Split GIFT answer text at unescaped ``=`` / ``~`` marks, keeping the mark."""
    parts, mark, current, i = [], None, [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch in chars:
            if mark is not None or "".join(current).strip():
                parts.append((mark or "", "".join(current)))
            mark, current = ch, []
        else:
            current.append(ch)
        i += 1
    if mark is not None:
        parts.append((mark, "".join(current)))
    return parts


def parse_gift(text: str) -> tuple[list[GiftQuestion], list[Problem]]:
    """Multiple-choice questions of a GIFT file; other question types are reported, not guessed."""
    questions, problems = [], []
    lines = text.replace("\r\n", "\n").split("\n")
    block: list[str] = []
    start = 1
    for number, line in enumerate(lines + [""], 1):
        if line.strip().startswith("//"):
            continue
        if line.strip():
            if not block:
                start = number
            block.append(line)
            continue
        if block:
            question, problem = _gift_block("\n".join(block), start)
            if question:
                questions.append(question)
            if problem:
                problems.append(problem)
            block = []
    return questions, problems


def _gift_block(block: str, line: int) -> tuple[GiftQuestion | None, Problem | None]:
    match = re.match(r"\s*(?:::(?P<title>.*?)::)?(?P<text>.*?)(?<!\\)\{(?P<answers>.*)(?<!\\)\}(?P<tail>.*)$", block, re.S)
    if not match:
        return None, Problem(line, "no answer block {...}: not a GIFT question")
    body = match.group("answers").strip()
    if not body:
        return None, Problem(line, "an essay question (empty {}) has no options to convert")
    if body.upper() in {"T", "F", "TRUE", "FALSE"}:
        return None, Problem(line, "a true/false question has no moves to choose from")
    if body.startswith("#"):
        return None, Problem(line, "a numerical question cannot become a scenario")
    if "->" in body:
        return None, Problem(line, "a matching question cannot become a scenario")
    question = GiftQuestion(line=line, title=_unescape(match.group("title") or ""),
                            text=_unescape(match.group("text") + " " + match.group("tail")))
    for mark, raw in _split_unescaped(body, "=~"):
        if not mark:
            return None, Problem(line, "answers must start with = (right) or ~ (wrong)")
        answer, _, feedback = raw.partition("#")
        answer = re.sub(r"^%-?\d+(\.\d+)?%", "", answer.strip())  # weights are not used
        question.answers.append((mark == "=", _unescape(answer), _unescape(feedback)))
    if sum(1 for right, _, _ in question.answers if right) != 1:
        return None, Problem(line, "a multiple-choice question needs exactly one right answer (=)")
    if not 2 <= len(question.answers) <= 6:
        return None, Problem(line, f"{len(question.answers)} answers; a scenario needs 2 to 6 options")
    return question, None


def slug(text: str, limit: int = 50) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (words[:limit].rstrip("-") or "question")


def _move_for(answer: str, mapping: dict[str, str]) -> str:
    for fragment, move in mapping.items():
        if fragment.lower() in answer.lower():
            return move
    return PLACEHOLDER


def gift_to_scenarios(questions: list[GiftQuestion], *, skill: str, stage: str, mapping: dict[str, str],
                      prefix: str = "gift") -> list[tuple[str, str]]:
    """Scenario files (name, text) for next-step questions of one skill and stage."""
    files = []
    for q in questions:
        ident = f"{prefix}-{slug(q.title or q.text, 40)}"
        right = next(text for ok, text, _ in q.answers if ok)
        front = {"type": "scenario", "id": ident, "skill": skill, "kind": "next-step", "stage": stage,
                 "options": [{"move": _move_for(text, mapping), "text": text} for _, text, _ in q.answers],
                 "answer": _move_for(right, mapping)}
        feedback = [f for _, _, f in q.answers if f]
        if feedback:
            front["explanation"] = " ".join(feedback)
        text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100) + "---\n" + q.text + "\n"
        files.append((f"{ident}.md", text))
    return files


def csv_to_scenarios(text: str) -> tuple[list[tuple[str, str]], list[Problem]]:
    """Scenario files from a CSV with the header CSV_HEADER (one row per scenario, up to six options)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("id", "skill", "kind", "prompt", "move_1", "text_1") if c not in (reader.fieldnames or [])]
    if missing:
        return [], [Problem(1, f"the header lacks {', '.join(missing)} (expected: {','.join(CSV_HEADER)})")]
    files, problems = [], []
    for row in reader:
        line = reader.line_num
        options = [(row.get(f"move_{n}") or "").strip() for n in range(1, 7)]
        texts = [(row.get(f"text_{n}") or "").strip() for n in range(1, 7)]
        pairs = [(m or PLACEHOLDER, t) for m, t in zip(options, texts) if t]
        if not row.get("id") or not row.get("prompt"):
            problems.append(Problem(line, "id and prompt are required"))
            continue
        ident = row["id"].strip()
        if not ID_PATTERN.fullmatch(ident) or len(ident) > MAX_ID:  # it names the file: "../x" or "/x" wrote outside --out
            problems.append(Problem(line, f"id must be a lower-case id like 'follow-up-2' (letters, digits and hyphens), "
                                          f"got {ident!r}"))
            continue
        if len(pairs) < 2:
            problems.append(Problem(line, "a scenario needs at least two options (text_1, text_2, ...)"))
            continue
        kind = (row.get("kind") or "next-step").strip()
        tag = {"next-step": "move", "which-stage": "stage"}.get(kind)
        if tag is None:
            problems.append(Problem(line, f"kind '{kind}' cannot be written from CSV (use next-step or which-stage)"))
            continue
        front: dict = {"type": "scenario", "id": ident, "skill": (row.get("skill") or "").strip(), "kind": kind}
        for key in ("stage", "lead"):
            if (row.get(key) or "").strip():
                front[key] = row[key].strip()
        if (row.get("days_out") or "").strip():
            try:
                front["days_out"] = int(row["days_out"])
            except ValueError:
                problems.append(Problem(line, f"days_out must be a whole number, got {row['days_out']!r}"))
                continue
        front["options"] = [{tag: m, "text": t} for m, t in pairs]
        text_out = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100) + "---\n" + row["prompt"].strip() + "\n"
        files.append((f"{front['id']}.md", text_out))
    return files, problems
