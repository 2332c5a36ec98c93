"""Content files (Markdown with YAML front matter) to lessons, the stage model and scenarios.

Pure: no Flask, no SQLAlchemy. Bad content never raises: every problem becomes a ContentError
carrying the file's path and the line it concerns, so ``content check`` can print
``path:line: message`` and an import can refuse to write anything.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

import yaml

from learnapp.domain.model import (
    DiscoveryStep, Fit, Kind, Lesson, Move, Option, RuleEntry, Scenario, Stage, StageModel,
)

# What one file may cost to check and show. Python-Markdown takes quadratic time over one block of many short lines
# (one rendering of 8 KB of "# a" headings took 0.36 s, 16 KB 1.15 s; 256 KB of them, or of underlined headings,
# rules or list items, kept the editor's live check (POST /author/validate) past 15 s) and PyYAML about 40 ms a KB
# of a long list (60 KB: 4.7 s). Measured with bench/validate_cost.py on a loaded machine. A two-minute lesson is
# about 3 KB (the shipped ones are 2.7 KB at most, front matter included).
MAX_BYTES = 32 * 1024  # a lesson or scenario, the files the app's editors check on every pause in typing
MAX_FRONT_MATTER = 12 * 1024
# The move catalogue and the stage files hold a company's whole catalogue in their front matter: 120 moves with a
# name and a one-sentence description are 34 KB, each stage's rule naming all of them 22 KB (tests/big_content.py
# big_content). Only `content check` and `content import` read them (no editor does), and PyYAML takes about 10 ms a
# KB of the worst front matter (a long flow list; bench/validate_cost.py --catalogue), so 64 KB costs under a second.
CATALOGUE_TYPES = ("moves", "stage")
MAX_CATALOGUE_BYTES = 80 * 1024
MAX_CATALOGUE_FRONT_MATTER = 64 * 1024
MAX_MARKDOWN = 8 * 1024  # a body (lesson, prompt, stage page), in bytes
MAX_EXPLANATION = 2_000  # characters of a scenario's explanation (Markdown too; the shipped ones are 330 at most)
NO_CATALOGUE = "no move catalogue found"  # stage files without moves.md (services.content.check tells it apart)
# Python-Markdown's inline patterns take quadratic time over unmatched '[' and '<' (2,000 '![' took 4 s to
# render, 2,000 '<http://' 1.4 s, 20,000 '[' over a minute: longer than a worker may take). Content needs a
# handful, for links and the odd tag; the shipped files have one '[' at most and no '<'.
MAX_BRACKETS = 100
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")  # \Z: "$" would also match before a final line break
# what the database columns hold: longer ids and texts, or larger numbers, failed the save (PostgreSQL
# refuses them; SQLite took long texts but not integers past 2**63)
MAX_ID, MAX_TITLE, MAX_SUMMARY = 80, 200, 500
MAX_INT = 2**31 - 1
MIN_OPTIONS, MAX_OPTIONS = 2, 6
MIN_STEPS, MAX_STEPS = 3, 6
ORDER_BY = ("discovery", "stages")

FIELDS = {
    "moves": {"type", "moves", "discovery_steps"},
    "stage": {"type", "id", "name", "position", "days_out", "signals", "lesson", "fit", "premature", "late"},
    "lesson": {"type", "skill", "title", "position", "summary"},
    "scenario": {"type", "id", "skill", "kind", "lead", "stage", "days_out", "signals", "options", "steps",
                 "answer", "order_by", "explanation"},
}
# fields of a scenario that only some kinds use: written on another kind they would be silently ignored
KIND_FIELDS = {
    Kind.NEXT_STEP: {"stage", "options", "answer"},
    Kind.WHICH_STAGE: {"stage", "options", "answer"},
    Kind.ORDER_STEPS: {"order_by", "steps"},
}
ENTRY_FIELDS = {"moves": {"id", "name", "description"}, "discovery_steps": {"id", "name"}}
REQUIRED = {
    "moves": ("moves",),
    "stage": ("id", "name", "position", "days_out"),
    "lesson": ("skill", "title"),
    "scenario": ("id", "skill", "kind"),
}


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem in one file, at one line (1 is the opening ``---``).

    A ``note`` is not a problem of its own: it says which checks were skipped because of the
    errors above it, and is listed last.
    """

    path: str
    line: int
    message: str
    note: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentCheckFailed(Exception):
    """Raised by callers that want an exception; carries the errors."""

    def __init__(self, errors: list[ContentError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@dataclass
class ContentSet:
    """Everything read from a set of files, with every problem found."""

    model: StageModel | None
    lessons: dict[str, Lesson]
    scenarios: dict[str, Scenario]
    errors: list[ContentError]
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Document:
    """One parsed file: front matter, body, and the line of every front-matter key path."""

    path: str
    data: dict[str, Any]
    body: str
    lines: dict[tuple, int]
    # keys written twice: YAML kept the last, so the other checks of this file would report the
    # consequences (a lost option, an unclassified move) rather than the cause, and are dropped
    duplicates: list[ContentError] = field(default_factory=list)

    def line(self, *key: Any) -> int:
        """The line of the deepest known prefix of ``key`` (the file's first line if none)."""
        for end in range(len(key), 0, -1):
            if key[:end] in self.lines:
                return self.lines[key[:end]]
        return 1


class _Errors:
    """Collects errors for one document, so checks read as one line each."""

    def __init__(self, sink: list[ContentError], doc: Document):
        self.sink, self.doc = sink, doc

    def add(self, key: tuple, message: str) -> None:
        self.sink.append(ContentError(self.doc.path, self.doc.line(*key), message))


# ---------------------------------------------------------------- reading files


def iter_content_files(paths: Iterable[str | Path]) -> list[Path]:
    """Markdown files under the given folders (recursively) plus the files named, sorted, without repeats."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            found.update(f for f in p.rglob("*.md") if f.is_file())
        else:
            found.add(p)
    return sorted(found, key=str)


def load_content(paths: Iterable[str | Path], context: ContentSet | None = None) -> ContentSet:
    """Read, parse and cross-check every content file under ``paths``.

    Files that hold no move catalogue, stages or lessons are checked against ``context`` (for
    example the shipped lessons/ when checking a single scenario). Never raises for bad content.
    """
    docs: list[tuple[str, bytes | str]] = []
    read_errors: list[ContentError] = []
    for path in iter_content_files(paths):
        try:
            docs.append((str(path), path.read_bytes()))
        except OSError as exc:
            read_errors.append(ContentError(str(path), 1, f"cannot read the file: {exc.strerror or exc}"))
    result = load_texts(docs, context)
    result.errors = _sorted(result.errors + read_errors)
    result.files = [p for p, _ in docs]
    return result


def load_texts(docs: list[tuple[str, bytes | str]], context: ContentSet | None = None,
               catalogue: bool = True) -> ContentSet:
    """Like load_content, from (path, data) pairs held in memory.

    Lessons found here are added to those of ``context``; the move catalogue and the stages are
    each taken from ``context`` when these documents hold none. With ``catalogue`` False (an editor's
    text) every file has a lesson's or scenario's size limits. Never raises for bad content.
    """
    errors: list[ContentError] = []
    # path order, so a duplicate id is always reported on the later file whatever order the caller used
    ordered = sorted(docs, key=lambda pair: pair[0])
    parsed = [d for d in (parse_document(path, data, errors, catalogue) for path, data in ordered) if d is not None]
    read = {doc.path for doc in parsed}
    # stage files that never reach the model: their stage is missing, not unknown
    unread_stages = [path for path, data in ordered if path not in read and _looks_like_stage(data)]
    by_type: dict[str, list[Document]] = {t: [] for t in FIELDS}
    for doc in parsed:
        doc_type = _document_type(doc, errors)
        if doc_type is not None and _check_fields(doc, doc_type, errors):
            by_type[doc_type].append(doc)
        elif doc_type == "stage":
            unread_stages.append(doc.path)
    model, broken = _build_model(by_type["moves"], by_type["stage"], unread_stages, context, errors)
    lessons = dict(context.lessons) if context else {}
    lessons.update(_build_lessons(by_type["lesson"], errors, context.lessons if context else None))
    _check_stage_lessons(by_type["stage"], set(lessons), errors)
    scenarios = _build_scenarios(by_type["scenario"], model, set(lessons), errors, broken)
    errors = _without_consequences(errors, parsed)
    failed = {e.path for e in errors}
    # only scenarios that passed every check are counted and imported
    scenarios = {ident: s for ident, s in scenarios.items() if s.path not in failed}
    return ContentSet(model=model, lessons=lessons, scenarios=scenarios, errors=_sorted(errors) + broken.note(),
                      files=[p for p, _ in docs])


def _sorted(errors: list[ContentError]) -> list[ContentError]:
    """By file and line, notes last (a note explains the errors listed before it)."""
    return sorted(errors, key=lambda e: (e.note, e.path, e.line, e.message))


def _without_consequences(errors: list[ContentError], docs: list[Document]) -> list[ContentError]:
    """In a file with a key written twice, only the duplicates: its other errors follow from the key YAML dropped."""
    doubled = {doc.path for doc in docs if doc.duplicates}
    return [e for e in errors if e.path not in doubled] + [e for doc in docs for e in doc.duplicates]


def _looks_like_stage(data: bytes | str) -> bool:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return re.search(r"^type:[ \t]*['\"]?stage['\"]?[ \t]*\r?$", text, re.MULTILINE) is not None


@dataclass
class _BrokenStages:
    """Stage files with errors: the checks that depend on them are skipped, not failed by the dozen.

    One stage missing from the model would otherwise make every scenario of that stage an "unknown
    stage", and every other stage's premature or late move that fits only there look misplaced.
    """

    paths: list[str] = field(default_factory=list)  # stage files with errors
    ids: set[str] = field(default_factory=set)  # stages in the model whose file has errors
    dropped: bool = False  # some stage file could not be read into the model (its id may be unknown)
    skipped: set[str] = field(default_factory=set)  # scenarios not checked because of them

    def __bool__(self) -> bool:
        return bool(self.paths)

    def skips(self, stage_id: str, model: StageModel, scenario_path: str) -> bool:
        """True (and the scenario is noted as skipped) if ``stage_id`` is a stage with errors or may be a missing one."""
        if stage_id in self.ids or (self.dropped and stage_id not in [s.id for s in model.stages]):
            self.skipped.add(scenario_path)
            return True
        return False

    def note(self) -> list[ContentError]:
        """One line saying how many scenarios were not checked (none if every scenario was)."""
        if not self.skipped:
            return []
        others = len(self.paths) - 1
        who = "this stage file has" if not others else f"this stage file and {others} other{'s' if others > 1 else ''} have"
        count = len(self.skipped)
        return [ContentError(self.paths[0], 1, f"note: {who} errors, so the checks that depend on "
                                               f"{'it' if len(self.paths) == 1 else 'them'} were skipped "
                                               f"({count} scenario{'' if count == 1 else 's'} not checked)", note=True)]


def parse_document(path: str, data: bytes | str, errors: list[ContentError], catalogue: bool = True) -> Document | None:
    """Split one file into YAML front matter and Markdown body; None (with errors) if it cannot be read.

    A file whose front matter says ``type: moves`` or ``type: stage`` may be larger (MAX_CATALOGUE_BYTES, its front
    matter MAX_CATALOGUE_FRONT_MATTER) unless ``catalogue`` is False; any other, one that turns out not to be of
    those types included, is held to MAX_BYTES and MAX_FRONT_MATTER.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    catalogue = catalogue and _declares_catalogue(raw)
    text = _decode(path, raw, errors, MAX_CATALOGUE_BYTES if catalogue else MAX_BYTES)
    if text is None:
        return None
    lines = text.split("\n")
    for char, instead in (("[", "use ( ) for asides"), ("<", "write 'less than' or use Markdown instead of HTML tags")):
        if text.count(char) > MAX_BRACKETS:
            line = next(n for n, count in enumerate(_running_counts(lines, char), 1) if count > MAX_BRACKETS)
            errors.append(ContentError(path, line, f"more than {MAX_BRACKETS} '{char}' in one file: links and tags need far "
                                                   f"fewer, and this many make the page too slow to show; {instead}"))
            return None
    if lines[0].strip() != "---":
        errors.append(ContentError(path, 1, "missing front matter: the file must start with a line '---'"))
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        errors.append(ContentError(path, 1, "front matter is not closed: add a line '---' after it"))
        return None
    front = "\n".join(lines[1:end])
    if len(front.encode()) > (MAX_CATALOGUE_FRONT_MATTER if catalogue else MAX_FRONT_MATTER):
        errors.append(_front_matter_too_large(path, catalogue))
        return None
    body = "\n".join(lines[end + 1:]).strip("\n")
    if len(body.encode()) > MAX_MARKDOWN:
        errors.append(ContentError(path, end + 2, f"the text after the front matter is {len(body.encode()):,} bytes; the "
                                                  f"limit is {MAX_MARKDOWN // 1024} KB (about 1,300 words; a lesson is "
                                                  f"two minutes of reading), as longer Markdown takes too long to show"))
        return None
    loaded = _load_yaml(path, front, errors)
    if loaded is None:
        return None
    data_map, key_lines, duplicates = loaded
    if catalogue and data_map.get("type") not in CATALOGUE_TYPES:  # the line the sizes were read by was not its type
        if len(raw) > MAX_BYTES:
            errors.append(_file_too_large(path, len(raw), False))
            return None
        if len(front.encode()) > MAX_FRONT_MATTER:
            errors.append(_front_matter_too_large(path, False))
            return None
    return Document(path=path, data=data_map, body=body, lines=key_lines, duplicates=duplicates)


# a line "type: moves" or "type: stage" at the start of a line (a top-level field), before the front matter closes
_CATALOGUE_TYPE = re.compile(rb"^type:[ \t]*(['\"]?)(?:moves|stage)\1[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)
_CLOSING_LINE = re.compile(rb"^---[ \t]*\r?$", re.MULTILINE)


def _declares_catalogue(raw: bytes) -> bool:
    """Whether the front matter names the file a move catalogue or a stage (read before YAML, to pick its limits)."""
    end = min(len(raw), MAX_CATALOGUE_BYTES)  # a larger file is refused whatever it is
    closing = _CLOSING_LINE.search(raw, 3, end)
    return _CATALOGUE_TYPE.search(raw, 0, closing.start() if closing else end) is not None


def _file_too_large(path: str, size: int, catalogue: bool) -> ContentError:
    if catalogue:
        return ContentError(path, 1, f"file is {size:,} bytes; the limit of the move catalogue or a stage file is "
                                     f"{MAX_CATALOGUE_BYTES // 1024} KB ({MAX_CATALOGUE_BYTES:,} bytes)")
    return ContentError(path, 1, f"file is {size:,} bytes; the limit is {MAX_BYTES // 1024} KB ({MAX_BYTES:,} bytes)")


def _front_matter_too_large(path: str, catalogue: bool) -> ContentError:
    if catalogue:
        return ContentError(path, 1, f"front matter is larger than {MAX_CATALOGUE_FRONT_MATTER // 1024} KB, the limit "
                                     f"of the move catalogue or a stage file (about 200 moves)")
    return ContentError(path, 1, f"front matter is larger than {MAX_FRONT_MATTER // 1024} KB")


def _running_counts(lines: list[str], char: str):
    """How many ``char`` there are up to the end of each line."""
    total = 0
    for line in lines:
        total += line.count(char)
        yield total


def _decode(path: str, raw: bytes, errors: list[ContentError], limit: int) -> str | None:
    if len(raw) > limit:
        errors.append(_file_too_large(path, len(raw), limit == MAX_CATALOGUE_BYTES))
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        errors.append(ContentError(path, 1, "UTF-16 text: save the file as UTF-8"))
        return None
    if b"\x00" in raw:
        errors.append(ContentError(path, 1, "binary file (it contains NUL bytes): content must be UTF-8 text"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        errors.append(ContentError(path, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8"))
        return None
    # a lone \r (old Mac files) is a line break too, as it is for YAML
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        errors.append(ContentError(path, 1, "empty file"))
        return None
    return text


def _load_yaml(path: str, front: str, errors: list[ContentError]) -> tuple[dict, dict[tuple, int], list[ContentError]] | None:
    """safe_load the front matter, refusing aliases (never needed; they make alias bombs) before expanding anything.

    Also gives the line of every key and the errors for keys written twice, which safe_load accepts silently.
    """
    try:
        if "*" in front or "&" in front:  # only then can there be an alias; the scan is a second parse
            for event in yaml.parse(front, Loader=yaml.SafeLoader):
                if isinstance(event, yaml.AliasEvent):
                    errors.append(ContentError(path, event.start_mark.line + 2, "YAML aliases (*name) are not allowed in content"))
                    return None
        loader = yaml.SafeLoader(front)  # safe_load, split in two so the node tree also gives line numbers
        try:
            node = loader.get_single_node()
            try:
                data = loader.construct_document(node) if node is not None else None
            except (ValueError, OverflowError) as exc:  # a date YAML reads as one but no calendar has: 2026-02-30
                errors.append(_bad_scalar_error(path, node, exc))
                return None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        errors.append(_yaml_error(path, exc))
        return None
    except yaml.YAMLError as exc:
        errors.append(ContentError(path, 1, f"invalid YAML: {exc}"))
        return None
    except RecursionError:  # the composer nests a call per level: hundreds of [[[ or "a: b: c:" levels
        errors.append(ContentError(path, 2, f"the front matter is nested too deeply (content needs at most {MAX_NESTING} levels)"))
        return None
    deepest = _deepest(node)
    if deepest is not None:
        errors.append(ContentError(path, deepest.start_mark.line + 2,
                                   f"the front matter is nested too deeply (content needs at most {MAX_NESTING} levels)"))
        return None
    if not isinstance(data, dict):
        errors.append(ContentError(path, 2, "front matter must be a mapping of 'field: value' lines"))
        return None
    key_lines: dict[tuple, int] = {}
    duplicates: list[ContentError] = []
    _record_lines(path, node, (), key_lines, duplicates)
    errors.extend(duplicates)
    return data, key_lines, duplicates


MAX_NESTING = 16  # a stage rule is 3 levels deep; the checks after this one walk the tree recursively


def _bad_scalar_error(path: str, root: yaml.Node, exc: Exception) -> ContentError:
    """The error for a value YAML cannot build, at its line: a date or time that does not exist (2026-02-30, 25:00)."""
    constructor = yaml.constructor.SafeConstructor()
    stack = [root]
    while stack:  # walked without recursion, as _deepest
        node = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(reversed([child for pair in node.value for child in pair]))
        elif node.tag == "tag:yaml.org,2002:timestamp":
            try:
                constructor.construct_yaml_timestamp(node)
            except (ValueError, OverflowError) as bad:
                return ContentError(path, node.start_mark.line + 2, f"'{node.value}' reads as a date but is not a real one "
                                    f"({bad}); put it in quotes if it is meant as text")
    return ContentError(path, 2, f"invalid YAML: {exc}")


def _deepest(root: yaml.Node | None) -> yaml.Node | None:
    """The first node nested more than MAX_NESTING levels deep, or None (walked without recursion)."""
    stack = [(root, 1)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return node
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
    return None


def _yaml_error(path: str, exc: yaml.MarkedYAMLError) -> ContentError:
    """The error at the line where the trouble starts, naming the line where the parser gave up too.

    The context mark is where a quoted text, a key or a [list] began; the problem mark is where the
    parser noticed, which for an unclosed quote is the end of the front matter. The context of a block
    ("while parsing a block mapping") is only the enclosing block's first line, so there the problem wins.
    """
    problem = exc.problem or exc.context or "cannot be parsed"
    problem_line = exc.problem_mark.line + 2 if exc.problem_mark else None
    context = exc.context if exc.context_mark and not (exc.context or "").startswith("while parsing a block") else None
    if context is None:
        return ContentError(path, problem_line or 1, f"invalid YAML: {problem}")
    line = exc.context_mark.line + 2
    if context == "while scanning a quoted scalar" and "end of stream" in problem:
        return ContentError(path, line, f"invalid YAML: a quoted text opened here is never closed (the parser stopped at line {problem_line})")
    if problem_line is None or problem_line == line:
        return ContentError(path, line, f"invalid YAML: {problem} ({context})")
    return ContentError(path, line, f"invalid YAML: {problem} at line {problem_line} ({context} that starts here)")


def _record_lines(path: str, node: yaml.Node, prefix: tuple, out: dict[tuple, int], duplicates: list[ContentError]) -> None:
    """The line of every key path; a key written twice in one mapping (YAML keeps the last) goes to ``duplicates``."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 2
            if isinstance(key, yaml.ScalarNode):  # the tag tells `1:` from `'1':`, which are two keys
                first = seen.setdefault((key.tag, key.value), line)
                if first != line:
                    duplicates.append(ContentError(path, line, _duplicate_message(prefix, key.value, first)))
            out[prefix + (key.value,)] = line
            _record_lines(path, value, prefix + (key.value,), out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[prefix + (i,)] = item.start_mark.line + 2
            _record_lines(path, item, prefix + (i,), out, duplicates)


def _duplicate_message(prefix: tuple, key: str, first: int) -> str:
    if len(prefix) == 1 and prefix[0] in {fit.value for fit in Fit}:
        return f"move '{key}' is listed twice under {prefix[0]} (also on line {first})"
    return f"duplicate field '{key}' (also on line {first})"


def _document_type(doc: Document, errors: list[ContentError]) -> str | None:
    declared = doc.data.get("type")
    if declared is None:
        if "scenarios" in Path(doc.path).parts:
            return "scenario"
        errors.append(ContentError(doc.path, 2, f"missing field 'type' (one of: {', '.join(FIELDS)})"))
        return None
    if not isinstance(declared, str) or declared not in FIELDS:
        errors.append(ContentError(doc.path, doc.line("type"), f"unknown type '{declared}' (one of: {', '.join(FIELDS)})"))
        return None
    return declared


def _check_fields(doc: Document, doc_type: str, errors: list[ContentError]) -> bool:
    """Report unknown and missing fields; False only when a required field is missing.

    A typo'd extra field is an error but the document is still read, so a stage with one does not
    make every other stage's rule look wrong.
    """
    ok = True
    for key in doc.data:
        if key not in FIELDS[doc_type]:
            errors.append(ContentError(doc.path, doc.line(key), f"unknown field '{key}' for a {doc_type} (allowed: {', '.join(sorted(FIELDS[doc_type]))})"))
    for key in REQUIRED[doc_type]:
        if doc.data.get(key) in (None, ""):
            errors.append(ContentError(doc.path, 2, f"missing field '{key}'"))
            ok = False
    return ok


# ---------------------------------------------------------------- small typed readers


def _text(err: _Errors, value: Any, key: tuple, name: str, required: bool = True, max_length: int | None = None) -> str:
    if value is None and not required:
        return ""
    if value is not None and not isinstance(value, str):  # YAML read `10`, `yes` or `2024-01-01` as another type
        err.add(key, f"'{name}' must be text, not {_kind_of(value)}: put it in quotes")
        return ""
    if value is None or not value.strip():
        err.add(key, f"'{name}' must be non-empty text")
        return ""
    if max_length is not None and len(value.strip()) > max_length:
        err.add(key, f"'{name}' must be at most {max_length} characters, got {len(value.strip())}")
        return ""
    return value.strip()


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (date, datetime)):
        return "a date"
    return {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _ident(err: _Errors, value: Any, key: tuple, name: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        err.add(key, f"'{name}' must be a lower-case id like 'send-offer', got {value!r}")
        return ""
    if len(value) > MAX_ID:
        err.add(key, f"'{name}' must be at most {MAX_ID} characters, got {len(value)}")
        return ""
    return value


def _int(err: _Errors, value: Any, key: tuple, name: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        err.add(key, f"'{name}' must be a whole number, got {value!r}")
        return None
    if not -MAX_INT <= value <= MAX_INT:
        err.add(key, f"'{name}' must be a whole number between {-MAX_INT} and {MAX_INT}, got {value}")
        return None
    return value


def _str_list(err: _Errors, value: Any, key: tuple, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        err.add(key, f"'{name}' must be a list of text lines")
        return ()
    return tuple(v.strip() for v in value)


MAX_LISTED = 12  # known ids an error lists in full; past it, the closest (120 moves made one error line 4 KB long)


def _known(err: _Errors, value: str, known: Iterable[str], key: tuple, what: str) -> bool:
    names = list(known)
    if value in names:
        return True
    if len(names) <= MAX_LISTED:
        err.add(key, f"unknown {what} '{value}' (known: {', '.join(names) or 'none'})")
        return False
    closest = difflib.get_close_matches(value, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join([', '.join(closest[:-1]), closest[-1]] if len(closest) > 1 else closest)}?" \
        if closest else "none is close to it;"
    err.add(key, f"unknown {what} '{value}' ({hint} {len(names)} {what}s are known: {_WHERE_LISTED[what]})")
    return False


_WHERE_LISTED = {  # where a trainer finds every id of a kind, when an error names only the closest ones
    "move": "lessons/moves.md lists them, as does the editor under its text",
    "discovery step": "lessons/moves.md lists them, as does the editor under its text",
    "stage": "lessons/stages/ holds them, and the editor lists them under its text",
    "skill": "the lessons name them, and the editor lists them under its text",
}


# ---------------------------------------------------------------- the stage model


def _build_model(move_docs: list[Document], stage_docs: list[Document], unread_stages: list[str],
                 context: ContentSet | None, errors: list[ContentError]) -> tuple[StageModel | None, _BrokenStages]:
    """The stage model from these documents (or ``context``), and the stage files whose errors make checks unreliable."""
    base = context.model if context else None
    broken = _BrokenStages()
    if len(move_docs) > 1:
        for doc in move_docs[1:]:
            errors.append(ContentError(doc.path, 1, f"a second move catalogue; there must be exactly one (first: {move_docs[0].path})"))
    if move_docs:
        moves, steps = _read_moves(move_docs[0], errors)
    elif base is not None:
        moves, steps = base.moves, base.discovery_steps
    elif stage_docs:
        errors.append(ContentError(stage_docs[0].path, 1, f"{NO_CATALOGUE}: add lessons/moves.md (type: moves)"))
        return None, broken
    else:
        return None, broken
    if stage_docs or unread_stages:
        stages, broken = _read_stages(stage_docs, unread_stages, moves, errors)
    elif base is not None:
        stages = base.stages
        if move_docs:
            _check_context_rules(move_docs[0], moves, stages, errors)
    else:
        return StageModel(stages=(), moves=moves, discovery_steps=steps), broken
    return StageModel(stages=stages, moves=moves, discovery_steps=steps), broken


def _check_context_rules(doc: Document, moves: tuple[Move, ...], stages: tuple[Stage, ...],
                         errors: list[ContentError]) -> None:
    """A new catalogue checked against the stored stages: a move no stage rule classifies could not be graded."""
    for move in moves:
        missing = [s.id for s in stages if move.id not in s.rule]
        if missing:
            line = next((doc.line("moves", n) for n, item in enumerate(doc.data.get("moves") or [])
                         if isinstance(item, dict) and item.get("id") == move.id), 1)
            errors.append(ContentError(doc.path, line, f"move '{move.id}' is not classified by stage {', '.join(missing)}: "
                                                       "add it under fit, premature or late in those stage files"))


def _read_moves(doc: Document, errors: list[ContentError]) -> tuple[tuple[Move, ...], tuple[DiscoveryStep, ...]]:
    err = _Errors(errors, doc)
    moves = tuple(Move(id=i, name=n, description=d) for i, n, d in _catalogue(err, doc, "moves"))
    steps = tuple(DiscoveryStep(id=i, name=n) for i, n, _ in _catalogue(err, doc, "discovery_steps"))
    return moves, steps


def _catalogue(err: _Errors, doc: Document, key: str) -> list[tuple[str, str, str]]:
    items = doc.data.get(key) or []
    if not isinstance(items, list):
        err.add((key,), f"'{key}' must be a list of entries with 'id' and 'name'")
        return []
    seen: set[str] = set()
    result = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            err.add((key, i), f"each entry of '{key}' needs 'id' and 'name'")
            continue
        for extra in sorted(set(map(str, item)) - ENTRY_FIELDS[key]):
            err.add((key, i, extra), f"unknown field '{extra}' in {key} (allowed: {', '.join(sorted(ENTRY_FIELDS[key]))})")
        ident = _ident(err, item.get("id"), (key, i, "id"), "id")
        name = _text(err, item.get("name"), (key, i, "name"), "name")
        if ident in seen:
            err.add((key, i, "id"), f"duplicate id '{ident}' in '{key}'")
        if ident and name and ident not in seen:
            seen.add(ident)
            result.append((ident, name, str(item.get("description") or "").strip()))
    return result


def _read_stages(docs: list[Document], unread: list[str], moves: tuple[Move, ...],
                 errors: list[ContentError]) -> tuple[tuple[Stage, ...], _BrokenStages]:
    stages: list[tuple[Stage, Document]] = []
    ids: dict[str, str] = {}
    positions: dict[int, str] = {}
    dropped = list(unread)
    for doc in docs:
        stage = _read_stage(doc, moves, errors)
        if stage is None:
            dropped.append(doc.path)
            continue
        if stage.id in ids:
            errors.append(ContentError(doc.path, doc.line("id"), f"duplicate stage id '{stage.id}' (also in {ids[stage.id]})"))
            dropped.append(doc.path)
            continue
        if stage.position in positions:
            errors.append(ContentError(doc.path, doc.line("position"), f"position {stage.position} is used by {positions[stage.position]} too"))
            dropped.append(doc.path)
            continue
        ids[stage.id], positions[stage.position] = doc.path, doc.path
        stages.append((stage, doc))
    stages.sort(key=lambda pair: pair[0].position)
    with_errors = {e.path for e in errors}
    kept_broken = [(stage, doc) for stage, doc in stages if doc.path in with_errors]
    broken = _BrokenStages(paths=sorted(set(dropped) | {doc.path for _, doc in kept_broken}),
                           ids={stage.id for stage, _ in kept_broken}, dropped=bool(dropped))
    _check_ranges(stages, errors, gaps=not broken.dropped)
    if not broken:  # a premature or late move may fit just the stage whose file is broken
        _check_rule_directions(stages, errors)
    return tuple(stage for stage, _ in stages), broken


def _read_stage(doc: Document, moves: tuple[Move, ...], errors: list[ContentError]) -> Stage | None:
    err = _Errors(errors, doc)
    before = len(errors)
    d = doc.data
    ident = _ident(err, d.get("id"), ("id",), "id")
    name = _text(err, d.get("name"), ("name",), "name")
    position = _int(err, d.get("position"), ("position",), "position")
    days = d.get("days_out")
    if not (isinstance(days, list) and len(days) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in days)
            and days[0] <= days[1]):
        err.add(("days_out",), f"'days_out' must be [min, max] whole numbers with min <= max, got {days!r}")
        days = None
    signals = _str_list(err, d.get("signals"), ("signals",), "signals")
    broken = len(errors) > before or days is None or position is None
    # a bad lesson link is reported but keeps the stage: dropping it would blame the other stages' rules
    lesson = _ident(err, d["lesson"], ("lesson",), "lesson") if d.get("lesson") is not None else ""
    if broken:
        return None
    # an incomplete rule is reported but keeps the stage, so other stages are not blamed for it
    rule = _read_rule(err, doc, moves)
    return Stage(id=ident, name=name, position=position, days_min=days[0], days_max=days[1], signals=signals,
                 rule=rule, lesson=lesson, body=doc.body)


def _read_rule(err: _Errors, doc: Document, moves: tuple[Move, ...]) -> dict[str, RuleEntry]:
    rule: dict[str, RuleEntry] = {}
    listed: set[Any] = set()  # every name under a heading, so a bad entry is not also reported as unclassified
    move_ids = [m.id for m in moves]
    for fit in Fit:
        entries = doc.data.get(fit.value)
        if entries in (None, [], {}):  # `late:` or `late: []` on its own means "no moves"
            continue
        if not isinstance(entries, dict):
            err.add((fit.value,), f"'{fit.value}' must map move ids to one-line reasons")
            continue
        for move, reason in entries.items():
            listed.add(move)
            key = (fit.value, move)
            if not _known(err, str(move), move_ids, key, "move"):
                continue
            if move in rule:
                err.add(key, f"move '{move}' is listed as {rule[move].fit.value} and as {fit.value}; pick one")
                continue
            reason_text = _text(err, reason, key, f"reason for {move}")
            if reason_text:
                rule[move] = RuleEntry(move=move, fit=fit, reason=reason_text)
    for move in move_ids:
        if move not in listed:
            err.add(("fit",), f"move '{move}' is not classified: add it under fit, premature or late")
    if rule and not any(e.fit is Fit.FIT for e in rule.values()):
        err.add(("fit",), "no move fits this stage: list at least one under 'fit'")
    return rule


def _check_ranges(stages: list[tuple[Stage, Document]], errors: list[ContentError], gaps: bool = True) -> None:
    """Consecutive stages' days_out ranges meet: no overlap, and (``gaps``) no day that belongs to no stage.

    Gaps are not checked while a stage file is missing from the model (its range is the gap), nor
    once ranges overlap (a range out of order leaves a gap next to it that moving it closes).
    """
    pairs = [(earlier, later, doc) for (earlier, _), (later, doc) in zip(stages, stages[1:])]
    overlapping = [(earlier, later, doc) for earlier, later, doc in pairs if later.days_max >= earlier.days_min]
    for earlier, later, doc in overlapping:
        errors.append(ContentError(doc.path, doc.line("days_out"),
                                   f"days_out {[later.days_min, later.days_max]} overlaps or comes before stage "
                                   f"'{earlier.id}' {[earlier.days_min, earlier.days_max]}: later stages are closer to the purchase"))
    if overlapping or not gaps:
        return
    for earlier, later, doc in pairs:
        if later.days_max < earlier.days_min - 1:
            first, last = later.days_max + 1, earlier.days_min - 1
            days = f"day {first} belongs" if first == last else f"days {first} to {last} belong"
            errors.append(ContentError(doc.path, doc.line("days_out"),
                                       f"days_out {[later.days_min, later.days_max]} leaves a gap before stage '{earlier.id}' "
                                       f"{[earlier.days_min, earlier.days_max]}: {days} to no stage; make the ranges meet"))


def _check_rule_directions(stages: list[tuple[Stage, Document]], errors: list[ContentError]) -> None:
    """A premature move must fit some later stage and a late move some earlier stage."""
    for i, (stage, doc) in enumerate(stages):
        for move, entry in stage.rule.items():
            if entry.fit is Fit.PREMATURE and not any(s.rule.get(move) and s.rule[move].fit is Fit.FIT for s, _ in stages[i + 1:]):
                errors.append(ContentError(doc.path, doc.line("premature", move),
                                           f"'{move}' is premature here but fits no later stage"))
            if entry.fit is Fit.LATE and not any(s.rule.get(move) and s.rule[move].fit is Fit.FIT for s, _ in stages[:i]):
                errors.append(ContentError(doc.path, doc.line("late", move),
                                           f"'{move}' is late here but fits no earlier stage"))


# ---------------------------------------------------------------- lessons


def _build_lessons(docs: list[Document], errors: list[ContentError], known: dict[str, Lesson] | None = None) -> dict[str, Lesson]:
    """The lessons of ``docs``; a position taken by another of them, or by a ``known`` lesson (imported, or in the
    content folders) that these documents do not redefine, is an error: the course order must be clear."""
    lessons: dict[str, Lesson] = {}
    redefined = {doc.data.get("skill") for doc in docs if isinstance(doc.data.get("skill"), str)}
    positions: dict[int, str] = {lesson.position: lesson.path or f"the lesson '{skill}'"
                                 for skill, lesson in sorted((known or {}).items()) if lesson.position and skill not in redefined}
    # a known lesson without a path is an imported one. A new skill at its place may be an old one whose id was changed
    # in its file (or whose file was deleted): the lesson stays in the app, so say so, or the trainer reads of a lesson
    # they believe they removed. Not to a lesson already known (the editor's, or its file imported again)
    imported = {lesson.position for skill, lesson in (known or {}).items() if not lesson.path and skill not in redefined}
    stays = (", imported before (a lesson stays in the app when its file is deleted; to rename a skill, change its "
             "title and keep its skill id)")
    for doc in docs:
        err = _Errors(errors, doc)
        before = len(errors)
        skill = _ident(err, doc.data.get("skill"), ("skill",), "skill")
        title = _text(err, doc.data.get("title"), ("title",), "title", max_length=MAX_TITLE)
        position = doc.data.get("position", 0)
        position = _int(err, position, ("position",), "position") if position is not None else 0
        summary = _text(err, doc.data.get("summary"), ("summary",), "summary", required=False, max_length=MAX_SUMMARY)
        if not doc.body.strip():
            err.add(("title",), "the lesson has no text after the front matter")
        if len(errors) > before:
            continue
        if skill in lessons:
            err.add(("skill",), f"duplicate lesson for skill '{skill}' (also in {lessons[skill].path})")
            continue
        lessons[skill] = Lesson(skill=skill, title=title, body=doc.body, position=position or 0, summary=summary, path=doc.path)
        # reported, but the lesson is kept: dropping it would make its scenarios' skill unknown
        if doc.data.get("position") is not None:
            if position in positions:
                note = stays if position in imported and skill not in (known or {}) else ""
                err.add(("position",), f"position {position} is used by {positions[position]}{note} too: the course order "
                                       "must be clear")
            positions.setdefault(position, doc.path)
    return lessons


def _check_stage_lessons(stage_docs: list[Document], skills: set[str], errors: list[ContentError]) -> None:
    """A stage's ``lesson`` must name a known skill (only checked when some lessons are known at all)."""
    for doc in stage_docs:
        lesson = doc.data.get("lesson")
        if skills and isinstance(lesson, str) and ID_PATTERN.match(lesson):
            _known(_Errors(errors, doc), lesson, sorted(skills), ("lesson",), "skill")


# ---------------------------------------------------------------- scenarios


def _build_scenarios(docs: list[Document], model: StageModel | None, skills: set[str],
                     errors: list[ContentError], broken: _BrokenStages) -> dict[str, Scenario]:
    scenarios: dict[str, Scenario] = {}
    for doc in docs:
        scenario = _read_scenario(doc, model, skills, errors, broken)
        if scenario is None:
            continue
        if scenario.id in scenarios:
            errors.append(ContentError(doc.path, doc.line("id"), f"duplicate scenario id '{scenario.id}' (also in {scenarios[scenario.id].path})"))
            continue
        scenarios[scenario.id] = scenario
    return scenarios


def parse_scenario_text(text: str, path: str, model: StageModel, skills: Iterable[str]) -> tuple[Scenario | None, list[ContentError]]:
    """Validate one scenario document (the live editor); the same checks as a full content check."""
    errors: list[ContentError] = []
    doc = parse_document(path, text, errors, catalogue=False)
    if doc is None:
        return None, errors
    if doc.data.get("type", "scenario") != "scenario":
        errors.append(ContentError(path, doc.line("type"), "this editor takes scenarios only (type: scenario)"))
        return None, errors
    if not _check_fields(doc, "scenario", errors):
        return None, _sorted(_without_consequences(errors, [doc]))
    scenario = _read_scenario(doc, model, set(skills), errors, _BrokenStages())
    return (scenario if not errors else None), _sorted(_without_consequences(errors, [doc]))


def _read_scenario(doc: Document, model: StageModel | None, skills: set[str], errors: list[ContentError],
                   broken: _BrokenStages) -> Scenario | None:
    err = _Errors(errors, doc)
    before = len(errors)
    d = doc.data
    ident = _ident(err, d.get("id"), ("id",), "id")
    skill = _ident(err, d.get("skill"), ("skill",), "skill")
    if skill:
        _known(err, skill, sorted(skills), ("skill",), "skill")
    try:
        kind = Kind(d.get("kind"))
    except ValueError:
        err.add(("kind",), f"unknown kind {d.get('kind')!r} (one of: {', '.join(k.value for k in Kind)})")
        return None
    for key in sorted(set(d) & set().union(*KIND_FIELDS.values()) - KIND_FIELDS[kind]):
        err.add((key,), f"field '{key}' does not apply to {kind.value} scenarios; remove it")
    if not doc.body.strip():
        err.add(("id",), "the scenario has no prompt: write it after the front matter")
    if model is None:
        err.add(("kind",), "no stage model to check against: include lessons/ (moves.md and stages/)")
        return None
    days_out = _int(err, d["days_out"], ("days_out",), "days_out") if d.get("days_out") is not None else None
    fields = dict(lead_name=_text(err, d.get("lead"), ("lead",), "lead", required=False),
                  signals=_str_list(err, d.get("signals"), ("signals",), "signals"),
                  explanation=_text(err, d.get("explanation"), ("explanation",), "explanation", required=False,
                                    max_length=MAX_EXPLANATION))
    reader = {Kind.NEXT_STEP: _next_step, Kind.WHICH_STAGE: _which_stage, Kind.ORDER_STEPS: _order_steps}[kind]
    specific = reader(err, doc, model, days_out, broken)
    if specific is None or len(errors) > before:
        return None
    return Scenario(id=ident, skill=skill, kind=kind, prompt=doc.body, days_out=days_out, path=doc.path,
                    **fields, **specific)


def _stage_of(err: _Errors, doc: Document, model: StageModel, days_out: int | None, broken: _BrokenStages) -> Stage | None:
    """The lead's stage; None if it is wrong (reported) or its stage file has errors (not checked, no error)."""
    stage_id = doc.data.get("stage")
    if stage_id is None or stage_id == "":
        err.add(("kind",), "missing field 'stage': the lead's stage")
        return None
    if not isinstance(stage_id, str):
        err.add(("stage",), f"'stage' must be one stage id, got {stage_id!r}")
        return None
    if broken.skips(stage_id, model, doc.path):
        return None
    if not _known(err, stage_id, [s.id for s in model.stages], ("stage",), "stage"):
        return None
    stage = model.stage(stage_id)
    if days_out is not None and not stage.days_min <= days_out <= stage.days_max:
        err.add(("days_out",), f"days_out {days_out} is outside stage '{stage.id}' ({stage.days_min} to {stage.days_max})")
    return stage


def _option_list(err: _Errors, doc: Document, key: str, tag: str, low: int, high: int) -> list[tuple[int, str, Any]]:
    items = doc.data.get(key)
    if not isinstance(items, list) or not items:
        err.add((key,) if key in doc.data else ("kind",), f"missing '{key}': a list of entries with '{tag}' and 'text'")
        return []
    if not low <= len(items) <= high:
        err.add((key,), f"{len(items)} {key}; a scenario of this kind needs {low} to {high}")
    result, seen = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(tag), str):
            err.add((key, i), f"each entry of '{key}' needs '{tag}' (and 'text')")
            continue
        extra = set(item) - {tag, "text"}
        if extra:
            err.add((key, i), f"unknown field '{sorted(extra)[0]}' in {key} (use '{tag}' and 'text')")
        if item[tag] in seen:
            err.add((key, i, tag), f"'{item[tag]}' appears twice in {key}")
            continue
        seen.add(item[tag])
        result.append((i, item[tag], item.get("text")))
    return result


def _next_step(err: _Errors, doc: Document, model: StageModel, days_out: int | None, broken: _BrokenStages) -> dict | None:
    stage = _stage_of(err, doc, model, days_out, broken)
    options = []
    entries = _option_list(err, doc, "options", "move", MIN_OPTIONS, MAX_OPTIONS)
    for i, move, text in entries:
        if _known(err, move, [m.id for m in model.moves], ("options", i, "move"), "move"):
            options.append(Option(key=move, text=_text(err, text, ("options", i, "text"), "text")))
    # an unknown move is most likely a typo of the one meant to fit (or named in the answer): what follows from it
    # ("no option fits", "answer is not one of the options") is not a problem of its own, so only the typo is said
    typo = len(options) < len(entries)
    known_moves = {m.id for m in model.moves}
    answer = None if typo and doc.data.get("answer") in known_moves else _answer(err, doc, [move for _, move, _ in entries], "move")
    if stage is None or not options:
        return None
    # a move missing from the stage's rule is reported on the stage file; here it simply does not fit
    fitting = [o.key for o in options if o.key in stage.rule and stage.rule[o.key].fit is Fit.FIT]
    if not fitting:
        if not typo:
            err.add(("options",), f"no option fits stage '{stage.id}' under its rule; one option's move must fit")
    elif len(fitting) > 1:
        err.add(("options",), f"ambiguous: {', '.join(fitting)} all fit stage '{stage.id}'; keep exactly one fitting option")
    elif answer is not None and answer != fitting[0]:
        entry = stage.rule.get(answer)
        why = f"{answer} is {entry.fit.value} there ({entry.reason})" if entry else f"the rule does not classify '{answer}'"
        err.add(("answer",), f"answer '{answer}' contradicts the rule of stage '{stage.id}': {why}")
    return dict(stage=stage.id, options=tuple(options))


def _answer(err: _Errors, doc: Document, keys: list[str], what: str) -> str | None:
    """The ``answer`` if it names one of the options' ``keys`` (None, reported, otherwise; None if absent)."""
    answer = doc.data.get("answer")
    if answer is None:
        return None
    if not isinstance(answer, str):
        err.add(("answer",), f"'answer' must be one {what} id, got {answer!r}")
        return None
    if keys and answer not in keys:  # without options their own errors say enough
        err.add(("answer",), f"answer '{answer}' is not one of the options ({', '.join(keys)})")
        return None
    return answer


def _which_stage(err: _Errors, doc: Document, model: StageModel, days_out: int | None, broken: _BrokenStages) -> dict | None:
    stage = _stage_of(err, doc, model, days_out, broken)
    options, typo = [], False
    for i, stage_id, text in _option_list(err, doc, "options", "stage", MIN_OPTIONS, MAX_OPTIONS):
        if broken.skips(stage_id, model, doc.path):
            continue
        if _known(err, stage_id, [s.id for s in model.stages], ("options", i, "stage"), "stage"):
            label = _text(err, text, ("options", i, "text"), "text") if text is not None else model.stage(stage_id).name
            options.append(Option(key=stage_id, text=label))
        else:
            typo = True
    if stage is None or not options or doc.path in broken.skipped:
        return None
    if stage.id not in [o.key for o in options] and not typo:  # an unknown stage is likely the lead's, mistyped
        err.add(("options",), f"the lead's stage '{stage.id}' is not among the options")
    answer = doc.data.get("answer")
    if answer is not None and answer != stage.id:  # a list never equals a stage id, so it is reported here too
        err.add(("answer",), f"answer '{answer}' contradicts 'stage: {stage.id}'")
    return dict(stage=stage.id, options=tuple(options))


def _order_steps(err: _Errors, doc: Document, model: StageModel, days_out: int | None, broken: _BrokenStages) -> dict | None:
    order_by = doc.data.get("order_by")
    if order_by not in ORDER_BY:
        err.add(("order_by",) if "order_by" in doc.data else ("kind",), f"'order_by' must be one of: {', '.join(ORDER_BY)}")
        return None
    tag = "step" if order_by == "discovery" else "move"
    known = [s.id for s in model.discovery_steps] if tag == "step" else [m.id for m in model.moves]
    options = []
    for i, key, text in _option_list(err, doc, "steps", tag, MIN_STEPS, MAX_STEPS):
        if _known(err, key, known, ("steps", i, tag), "discovery step" if tag == "step" else "move"):
            options.append((i, Option(key=key, text=_text(err, text, ("steps", i, "text"), "text"))))
    if order_by == "stages" and broken:  # where each move first fits may be in the broken stage
        broken.skipped.add(doc.path)
        return None
    ranks = _ranks(err, model, order_by, options)
    if ranks is None:
        return None
    for (i, option), (_, previous) in zip(options[1:], options):
        if ranks[option.key] <= ranks[previous.key]:
            why = ("the discovery walk" if order_by == "discovery" else "the stages where they fit")
            err.add(("steps", i), f"steps are not in the right order: '{option.key}' cannot follow '{previous.key}' ({why})")
    return dict(order_by=order_by, options=tuple(o for _, o in options))


def _ranks(err: _Errors, model: StageModel, order_by: str, options: list[tuple[int, Option]]) -> dict[str, int] | None:
    if order_by == "discovery":
        return {s.id: n for n, s in enumerate(model.discovery_steps)}
    ranks: dict[str, int] = {}
    for i, option in options:
        first = next((s.position for s in model.stages if option.key in s.rule and s.rule[option.key].fit is Fit.FIT), None)
        if first is None:
            err.add(("steps", i), f"move '{option.key}' fits no stage, so it has no place in the journey")
            return None
        ranks[option.key] = first
    by_rank: dict[int, str] = {}
    for i, option in options:
        if ranks[option.key] in by_rank:
            err.add(("steps", i), f"'{option.key}' and '{by_rank[ranks[option.key]]}' first fit the same stage; their order is ambiguous")
            return None
        by_rank[ranks[option.key]] = option.key
    return ranks


# ---------------------------------------------------------------- writing files back


def scenario_to_markdown(scenario: Scenario, model: StageModel) -> str:
    """The file text of a scenario; parsing it gives back an equal scenario (path aside)."""
    front: dict[str, Any] = {"type": "scenario", "id": scenario.id, "skill": scenario.skill, "kind": scenario.kind.value}
    if scenario.lead_name:
        front["lead"] = scenario.lead_name
    if scenario.stage:
        front["stage"] = scenario.stage
    if scenario.days_out is not None:
        front["days_out"] = scenario.days_out
    if scenario.signals:
        front["signals"] = list(scenario.signals)
    if scenario.kind is Kind.ORDER_STEPS:
        front["order_by"] = scenario.order_by
        tag = "step" if scenario.order_by == "discovery" else "move"
        front["steps"] = [{tag: o.key, "text": o.text} for o in scenario.options]
    else:
        tag = "move" if scenario.kind is Kind.NEXT_STEP else "stage"
        front["options"] = [{tag: o.key, "text": o.text} for o in scenario.options]
        answer = _marked_answer(scenario, model)
        if answer is not None:  # none: the scenario no longer fits these rules (a retired one); the check will say why
            front["answer"] = answer
    if scenario.explanation:
        front["explanation"] = scenario.explanation
    return _document(front, scenario.prompt)


def _marked_answer(scenario: Scenario, model: StageModel) -> str | None:
    """The answer the rules give, written out so a trainer reading the file sees it (and the check confirms it).

    None when the rules give none: a scenario retired before its stage was renamed or a move of its options left
    the catalogue (its file is still written, for the trainer to fix in the editor)."""
    if scenario.kind is Kind.WHICH_STAGE:
        return scenario.stage
    stage = next((s for s in model.stages if s.id == scenario.stage), None)
    if stage is None:
        return None
    fitting = [o.key for o in scenario.options if o.key in stage.rule and stage.rule[o.key].fit is Fit.FIT]
    return fitting[0] if len(fitting) == 1 else None


def lesson_to_markdown(lesson: Lesson) -> str:
    """The file text of a lesson; parsing it gives back an equal lesson (path aside)."""
    front: dict[str, Any] = {"type": "lesson", "skill": lesson.skill, "title": lesson.title, "position": lesson.position}
    if lesson.summary:
        front["summary"] = lesson.summary
    return _document(front, lesson.body)


def moves_to_markdown(model: StageModel, body: str = "") -> str:
    """The file text of the move catalogue and the discovery walk."""
    front: dict[str, Any] = {
        "type": "moves",
        "moves": [{"id": m.id, "name": m.name, **({"description": m.description} if m.description else {})} for m in model.moves],
        "discovery_steps": [{"id": s.id, "name": s.name} for s in model.discovery_steps],
    }
    return _document(front, body)


def stage_to_markdown(stage: Stage) -> str:
    """The file text of one stage with its rule; parsing it gives back an equal stage."""
    front: dict[str, Any] = {"type": "stage", "id": stage.id, "name": stage.name, "position": stage.position,
                             "days_out": [stage.days_min, stage.days_max], "signals": list(stage.signals)}
    if stage.lesson:
        front["lesson"] = stage.lesson
    for fit in Fit:
        front[fit.value] = {move: entry.reason for move, entry in stage.rule.items() if entry.fit is fit}
    return _document(front, stage.body)


def _document(front: dict[str, Any], body: str) -> str:
    yaml_text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    body = body.strip("\n")  # only blank lines: parsing keeps a first line's indentation (a code block)
    return f"---\n{yaml_text}---\n{body}\n"
