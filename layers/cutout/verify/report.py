"""A verification report: checks that each answer pass, fail or not_applicable with evidence,
written as JSON (for machines) and Markdown (for a security reviewer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, Literal, TypeVar

Status = Literal["pass", "fail", "not_applicable"]
PASS: Status = "pass"  # noqa: S105 - a check status, not a password
FAIL: Status = "fail"
NOT_APPLICABLE: Status = "not_applicable"


@dataclass(frozen=True)
class Evidence:
    """What was read: the resource (an ARN or name), the property, and the value found."""

    resource: str
    property: str
    value: Any

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "property": self.property, "value": self.value}


@dataclass(frozen=True)
class Check:
    """One promise checked once: `detail` is the one sentence a reviewer reads."""

    id: str
    promise: str
    status: Status
    detail: str
    evidence: tuple[Evidence, ...] = ()
    how: str = ""  # how it was checked (the calls made), for the Markdown report

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "promise": self.promise, "status": self.status,
                "evidence": [item.to_json() for item in self.evidence], "detail": self.detail}


def check(id: str, promise: str, how: str, failures: list[str], evidence: list[Evidence],
          passed: str) -> Check:
    """Pass with `passed` when nothing failed, else fail with the failures as the sentence."""
    if failures:
        return Check(id, promise, FAIL, "; ".join(failures) + ".", tuple(evidence), how)
    return Check(id, promise, PASS, passed, tuple(evidence), how)


def not_applicable(id: str, promise: str, how: str, why: str) -> Check:
    return Check(id, promise, NOT_APPLICABLE, why, (), how)


class NotApplicable(Exception):  # noqa: N818 - a verdict, not an error
    """Raised inside a check when the stack has nothing it examines: it answers n/a, saying why."""


Target = TypeVar("Target")


@dataclass(frozen=True)
class Verifies:
    """A check's identity: decorating `run(target, this)` with it names the check once, turns
    a `NotApplicable` into its n/a answer, and `this.result(...)` into its pass or fail."""

    id: str
    promise: str
    how: str  # how it is checked (the calls made), for the Markdown report

    def __call__(self, run: Callable[[Target, Verifies], Check]) -> Callable[[Target], Check]:
        @wraps(run)
        def checked(target: Target) -> Check:
            try:
                return run(target, self)
            except NotApplicable as why:
                return not_applicable(self.id, self.promise, self.how, str(why))

        return checked

    def result(self, failures: list[str], evidence: list[Evidence], passed: str) -> Check:
        return check(self.id, self.promise, self.how, failures, evidence, passed)


@dataclass
class Report:
    """The checks of one run; `ok` only when none failed."""

    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(item.status != FAIL for item in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [item.to_json() for item in self.checks]}

    def json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, default=str) + "\n"

    def summary(self) -> str:
        """One line a check, for the terminal."""
        marks = {PASS: "PASS", FAIL: "FAIL", NOT_APPLICABLE: "n/a "}
        lines = [f"{marks[item.status]}  {item.id}: {item.detail}" for item in self.checks]
        counts = {status: sum(item.status == status for item in self.checks)
                  for status in (PASS, FAIL, NOT_APPLICABLE)}
        lines.append(f"{counts[PASS]} passed, {counts[FAIL]} failed, "
                     f"{counts[NOT_APPLICABLE]} not applicable")
        return "\n".join(lines)

    def publish(self, json_path: Path | None = None, markdown_path: Path | None = None) -> int:
        """Print the summary, write the files asked for; the exit code."""
        print(self.summary())
        if json_path:
            json_path.write_text(self.json_text())
        if markdown_path:
            markdown_path.write_text(self.markdown())
        return self.exit_code

    def markdown(self) -> str:
        """For a reviewer: per check the promise, how it was checked, the result, the evidence."""
        verdict = "every check passed" if self.ok else "SOME CHECKS FAILED"
        lines = [f"# {self.title}", "", f"Result: **{verdict}**.", "",
                 "| check | promise | result |", "|---|---|---|"]
        lines += [f"| `{item.id}` | {item.promise} | {item.status} |" for item in self.checks]
        for item in self.checks:
            lines += ["", f"## `{item.id}`: {item.status}", "", f"**Promise.** {item.promise}",
                      "", f"**How it was checked.** {item.how or 'see docs/verify.md'}", "",
                      f"**Result.** {item.detail}"]
            if item.evidence:
                lines += ["", "| resource | property | value |", "|---|---|---|"]
                lines += [f"| `{_cell(e.resource)}` | `{_cell(e.property)}` | "
                          f"`{_cell(json.dumps(e.value, default=str))}` |" for e in item.evidence]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
