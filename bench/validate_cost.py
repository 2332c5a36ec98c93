"""What one live check of the editor (POST /author/validate) costs on the worst text it accepts.

    python bench/validate_cost.py [--sizes 16,32,64,256] [--runs 3] [--only hash,mixed] [--stop 20]

Builds a throwaway SQLite database (shipped content imported, one trainer), then posts lesson texts made of one
pattern repeated up to each size (the lesson editor's body; a scenario's prompt renders the same way) through the
app's test client, and prints the median and the slowest of ``--runs`` requests for each. The patterns are the ones
Python-Markdown spends the most time on per byte (one block of many short lines is quadratic: headings, rules,
list items; nested quotes, backticks, entities), plus plain words for comparison, and two front matters that keep
the YAML parser busy. A request over ``--stop`` seconds is stopped (SIGALRM) and printed as such. A size over the
content limit shows what the refusal costs.

    python bench/validate_cost.py --catalogue [--sizes 32,64,80] [--runs 3]

The move catalogue and the stage files have larger limits (their front matter holds the whole catalogue) but no
editor: only ``content check`` and ``content import`` read them. With ``--catalogue`` it times what ``content check``
spends on one ``lessons/moves.md`` whose front matter is filled with each front-matter pattern up to each size
(load_texts, in process, no database), and on a real catalogue of 120 moves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATTERNS = {  # repeated to fill the Markdown body, or ("front", ...) a field of the front matter
    "plain words": "word ",
    "emphasis": "*a ",
    "backticks": "`a ",
    "entities": "&amp; ",
    "mixed *_`": "*_`",
    "nested quotes": ">",
    "headings": "# a\n",
    "underlined headings": "a\n=\n",
    "rules": "---\n",
    "list items": "- a\n",
    "numbered items": "1. a\n",
    "nested list": None,  # each item indented one level more (built below)
    "backslashes": "\\",
    "table rows": "|a|b|\n",
    "front: many keys": ("front", "k{}: v\n"),
    "front: long list": ("front", "1,"),
}
LESSON = (ROOT / "lessons" / "days-out.md").read_text()


def lesson_of_size(name: str, size: int) -> str:
    """The shipped lesson with the pattern added up to ``size`` bytes (a lesson: its errors say which field is wrong)."""
    pattern = PATTERNS[name]
    room = size - len(LESSON.encode()) - 16
    if isinstance(pattern, tuple):  # in the front matter, before its closing line
        front, body = LESSON.split("\n---\n", 1)
        if pattern[1] == "1,":
            added = "\nx: [" + "1," * max(0, room // 2) + "1]"
        else:
            lines, used, i = [], 0, 0
            while used + len(pattern[1].format(i)) <= room:
                lines.append(pattern[1].format(i))
                used, i = used + len(lines[-1]), i + 1
            added = "\n" + "".join(lines).rstrip("\n")
        return front + added + "\n---\n" + body
    if pattern is None:
        items, used, depth = [], 0, 0
        while used + 2 * depth + 4 <= room:
            items.append("  " * depth + "- a\n")
            used, depth = used + len(items[-1]), depth + 1
        return LESSON + "\n" + "".join(items)
    return LESSON + "\n" + pattern * max(0, room // len(pattern.encode()))


class Stopped(BaseException):  # not an Exception: Flask would turn it into a 500
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="16,32,64,256", help="text sizes in KB (1 KB = 1,024 bytes)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="comma-separated pattern names (default: all)")
    parser.add_argument("--stop", type=int, default=20, help="seconds after which a request is stopped")
    parser.add_argument("--catalogue", action="store_true", help="time content check of a move catalogue instead")
    args = parser.parse_args()
    if args.catalogue:
        catalogue_cost(args)
        return

    os.environ.setdefault("SECRET_KEY", "bench")
    from learnapp.app import create_app
    from learnapp.domain.content import MAX_BYTES
    from learnapp.extensions import db
    from learnapp.services.db import now
    from learnapp.services.users import create_user

    folder = tempfile.mkdtemp(prefix="validate-cost-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["content", "import"])
        assert result.exit_code == 0, result.output
        trainer = create_user("trainer@bench.test", "Trainer", "bench-pass-2026", "trainer", now=now())
        db.session.commit()
        login_id = trainer.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = login_id, True

    def stop(*_):
        raise Stopped()

    signal.signal(signal.SIGALRM, stop)
    names = args.only.split(",") if args.only else list(PATTERNS)
    print(f"content limit: {MAX_BYTES:,} bytes; median and slowest of {args.runs} requests", flush=True)
    for kb in (int(s) for s in args.sizes.split(",")):
        for name in names:
            text = lesson_of_size(name, kb * 1024)
            times, note = [], ""
            try:
                for run in range(args.runs):
                    typed = text[:-1] + "abcdefghij"[run % 10]  # a new text each time, as each keystroke sends
                    signal.alarm(args.stop)
                    started = time.perf_counter()
                    response = client.post("/author/validate", json={"text": typed, "lesson": "days-out"})
                    times.append((time.perf_counter() - started) * 1000)
                    signal.alarm(0)
                errors = response.get_json()["errors"]
                note = f"refused: {errors[0]['message'][:60]}" if errors else "accepted"
            except Stopped:
                note = f"stopped after {args.stop} s"
            figures = (f"median {statistics.median(times):8.0f} ms  slowest {max(times):8.0f} ms" if times
                       else " " * 41)
            print(f"{kb:4d} KB  {name:17s} {figures}  {note}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)


def catalogue_of_size(name: str, size: int) -> str:
    """A move catalogue whose front matter is ``type: moves`` and the pattern, up to ``size`` bytes of front matter."""
    text = lesson_of_size(name, size + len(LESSON.split("\n---\n", 1)[1]) + 24)
    front = text.split("\n---\n", 1)[0].split("\n", 1)[1]
    added = front[front.index("\nx: [") if "\nx: [" in front else front.index("\nk0: "):]
    return "---\ntype: moves" + added + "\n---\nThe catalogue.\n"


def catalogue_cost(args) -> None:
    from learnapp.domain.content import MAX_CATALOGUE_FRONT_MATTER, load_texts
    from tests.big_content import big_content

    def stop(*_):
        raise Stopped()

    signal.signal(signal.SIGALRM, stop)
    folder = Path(tempfile.mkdtemp(prefix="validate-cost-"))
    real = (big_content(folder)[0] / "moves.md").read_text()
    cases = [(f"{len(real.encode()) // 1024} KB", "120 moves (tests/big_content.py)", real)]
    names = [n for n in (args.only.split(",") if args.only else PATTERNS) if isinstance(PATTERNS[n], tuple)]
    sizes = args.sizes if args.sizes != "16,32,64,256" else "32,64,80"
    cases += [(f"{kb} KB", name, catalogue_of_size(name, kb * 1024)) for kb in map(int, sizes.split(",")) for name in names]
    print(f"catalogue front matter limit: {MAX_CATALOGUE_FRONT_MATTER:,} bytes; median and slowest of {args.runs} "
          f"checks of lessons/moves.md alone", flush=True)
    for size, name, text in cases:
        times, note = [], ""
        try:
            for _ in range(args.runs):
                signal.alarm(args.stop)
                started = time.perf_counter()
                errors = load_texts([("lessons/moves.md", text)]).errors
                times.append((time.perf_counter() - started) * 1000)
                signal.alarm(0)
            note = f"refused: {errors[0].message[:60]}" if errors else "accepted"
        except Stopped:
            note = f"stopped after {args.stop} s"
        figures = f"median {statistics.median(times):8.0f} ms  slowest {max(times):8.0f} ms" if times else " " * 41
        print(f"{size:>6s}  {name:33s} {figures}  {note}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
