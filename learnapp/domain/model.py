"""Domain value types shared by content parsing, grading, scheduling and retention.

Pure: no Flask, no SQLAlchemy. Every type is a frozen dataclass with ``to_dict``/``from_dict``
so the service layer can store it as JSON and rebuild it exactly.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Sequence


class Kind(str, Enum):
    """The kinds of scenario a rep can be drilled on."""

    NEXT_STEP = "next-step"
    WHICH_STAGE = "which-stage"
    ORDER_STEPS = "order-steps"


class Fit(str, Enum):
    """How a move relates to a stage, according to that stage's rule."""

    FIT = "fit"
    PREMATURE = "premature"
    LATE = "late"


@dataclass(frozen=True)
class Move:
    """One entry of the move catalogue: something a rep can do next."""

    id: str
    name: str
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Move":
        return cls(id=d["id"], name=d["name"], description=d.get("description", ""))


@dataclass(frozen=True)
class DiscoveryStep:
    """One step of the ordered discovery walk (current situation, desired change, ...)."""

    id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DiscoveryStep":
        return cls(id=d["id"], name=d["name"])


@dataclass(frozen=True)
class RuleEntry:
    """One line of a stage rule: how one move relates to the stage, and why."""

    move: str
    fit: Fit
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"move": self.move, "fit": self.fit.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RuleEntry":
        return cls(move=d["move"], fit=Fit(d["fit"]), reason=d["reason"])


@dataclass(frozen=True)
class Stage:
    """A buyer stage with its days-out range, its signals and its rule over every move.

    ``days_min``/``days_max`` are days before the purchase (inclusive); a negative number
    means days after the purchase. ``rule`` maps every move id of the catalogue to a RuleEntry.
    """

    id: str
    name: str
    position: int
    days_min: int
    days_max: int
    signals: tuple[str, ...]
    rule: dict[str, RuleEntry]
    lesson: str = ""  # skill id whose lesson explains this stage's rule
    body: str = ""  # Markdown explanation of the stage

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "position": self.position,
            "days_min": self.days_min,
            "days_max": self.days_max,
            "signals": list(self.signals),
            "rule": {k: v.to_dict() for k, v in self.rule.items()},
            "lesson": self.lesson,
            "body": self.body,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Stage":
        return cls(
            id=d["id"],
            name=d["name"],
            position=d["position"],
            days_min=d["days_min"],
            days_max=d["days_max"],
            signals=tuple(d.get("signals", ())),
            rule={k: RuleEntry.from_dict(v) for k, v in d["rule"].items()},
            lesson=d.get("lesson", ""),
            body=d.get("body", ""),
        )


@dataclass(frozen=True)
class StageModel:
    """The whole buyer-stage model: ordered stages, the move catalogue, the discovery walk."""

    stages: tuple[Stage, ...]
    moves: tuple[Move, ...]
    discovery_steps: tuple[DiscoveryStep, ...] = ()

    def stage(self, stage_id: str) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def move(self, move_id: str) -> Move:
        for m in self.moves:
            if m.id == move_id:
                return m
        raise KeyError(move_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": [s.to_dict() for s in self.stages],
            "moves": [m.to_dict() for m in self.moves],
            "discovery_steps": [s.to_dict() for s in self.discovery_steps],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StageModel":
        return cls(
            stages=tuple(sorted((Stage.from_dict(s) for s in d["stages"]), key=lambda s: s.position)),
            moves=tuple(Move.from_dict(m) for m in d["moves"]),
            discovery_steps=tuple(DiscoveryStep.from_dict(s) for s in d.get("discovery_steps", ())),
        )


@dataclass(frozen=True)
class Lesson:
    """The lesson that teaches one skill; the skill takes the lesson's id and title."""

    skill: str
    title: str
    body: str  # Markdown
    position: int = 0
    summary: str = ""
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Lesson":
        return cls(**d)


@dataclass(frozen=True)
class Option:
    """One answer option of a scenario.

    For next-step options ``key`` is a move id; for which-stage a stage id; for order-steps
    a move id or a discovery-step id (the items to put in order).
    """

    key: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Option":
        return cls(key=d["key"], text=d["text"])


@dataclass(frozen=True)
class Scenario:
    """One drill item: a lead's situation, a prompt and options, for one skill.

    ``stage`` is the lead's true stage (next-step and which-stage). For order-steps the
    options are listed in the file in the correct order and ``order_by`` says which catalogue
    defines that order ("discovery" or "stages").
    """

    id: str
    skill: str
    kind: Kind
    prompt: str  # Markdown
    options: tuple[Option, ...]
    stage: str | None = None
    lead_name: str = ""
    days_out: int | None = None
    signals: tuple[str, ...] = ()
    order_by: str | None = None
    explanation: str = ""  # optional extra Markdown shown after answering
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "skill": self.skill,
            "kind": self.kind.value,
            "prompt": self.prompt,
            "options": [o.to_dict() for o in self.options],
            "stage": self.stage,
            "lead_name": self.lead_name,
            "days_out": self.days_out,
            "signals": list(self.signals),
            "order_by": self.order_by,
            "explanation": self.explanation,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Scenario":
        return cls(
            id=d["id"],
            skill=d["skill"],
            kind=Kind(d["kind"]),
            prompt=d["prompt"],
            options=tuple(Option.from_dict(o) for o in d["options"]),
            stage=d.get("stage"),
            lead_name=d.get("lead_name", ""),
            days_out=d.get("days_out"),
            signals=tuple(d.get("signals", ())),
            order_by=d.get("order_by"),
            explanation=d.get("explanation", ""),
            path=d.get("path", ""),
        )


@dataclass(frozen=True)
class Verdict:
    """The grade of one answer.

    ``correct`` is True only for a fully right answer; ``score`` is 0..1 (partial credit for
    order-steps: the share of step pairs in the right order). ``fit`` tells whether the chosen move
    was premature or late for the stage. ``reason`` is the rule's one-line reason; ``lesson`` the
    skill id whose lesson to read. ``near_miss``: an order-steps answer wrong only in two neighbouring
    steps swapped.
    """

    correct: bool
    score: float
    chosen: str | None
    expected: str | None
    fit: Fit | None
    reason: str
    lesson: str
    explanation: str = ""
    misplaced: str | None = None  # order-steps: the first item out of place
    details: tuple[str, ...] = field(default=())
    near_miss: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "score": self.score,
            "chosen": self.chosen,
            "expected": self.expected,
            "fit": self.fit.value if self.fit else None,
            "reason": self.reason,
            "lesson": self.lesson,
            "explanation": self.explanation,
            "misplaced": self.misplaced,
            "details": list(self.details),
            "near_miss": self.near_miss,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Verdict":
        return cls(
            correct=d["correct"],
            score=d["score"],
            chosen=d.get("chosen"),
            expected=d.get("expected"),
            fit=Fit(d["fit"]) if d.get("fit") else None,
            reason=d.get("reason", ""),
            lesson=d.get("lesson", ""),
            explanation=d.get("explanation", ""),
            misplaced=d.get("misplaced"),
            details=tuple(d.get("details", ())),
            near_miss=d.get("near_miss", False),
        )


def answer_label(scenario: Scenario, chosen: str, model: StageModel | None) -> str:
    """An answer as a person reads it: the move or stage by name; for order-steps the order given, by step names.

    An id the model no longer knows (a move dropped since) is shown as it is.
    """
    return answer_label_in(scenario, chosen, [model])


def answer_label_in(scenario: Scenario, chosen: str, models: Sequence[StageModel | None]) -> str:
    """answer_label with each id named by the first of ``models`` that knows it (newest first: an id the current rules
    dropped or renamed is named as the last rules that knew it named it); an id none of them knows is shown as it is."""
    names = ChainMap(*[_answer_names(scenario, model) for model in models if model is not None])
    if scenario.kind is Kind.ORDER_STEPS:
        return " → ".join(names.get(key, key) for key in chosen.split(","))
    return names.get(chosen, chosen)


def _answer_names(scenario: Scenario, model: StageModel) -> dict[str, str]:
    if scenario.kind is Kind.WHICH_STAGE:
        return {s.id: s.name for s in model.stages}
    return {**{m.id: m.name for m in model.moves}, **{s.id: s.name for s in model.discovery_steps}}
