"""Reported rows are claims: one schema, checked numbers, and a maintainer's review before they are listed.

A claim is a paper's (or a repository's) numbers for one method under one protocol.
`Claim` is the schema, published for submitters as `leaderboard/claim.schema.json`
(`python -m leaderboard.claims > leaderboard/claim.schema.json`; a test keeps the file
in sync). Every metric has its range (declared once, in evaluation/tasks.py); a claimed
HCS is recomputed from the claim's age MAE and identity and refused when it differs;
a link to the paper or the code is required. An accepted claim waits, public, in the
"awaiting review" list until the maintainer approves it (then it is a `reported` row)
or rejects it (with the reason).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    Strict,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from evaluation.records import SCHEMA_VERSION, RecordError, ResultsRecord
from evaluation.tasks import METHOD_TYPES, TASKS, hcs

SCHEMA_PATH = Path(__file__).with_name("claim.schema.json")

# A method's name, as a claim and a zip of outputs give it: ASCII letters, digits, '_', '.', '+', '-' and inner spaces,
# starting with a letter, a digit or '_' (not a spreadsheet's formula start, FORMULA_STARTS) and not ending in a space
METHOD_NAME = r"^[A-Za-z0-9_](?:[A-Za-z0-9_.+ -]*[A-Za-z0-9_.+-])?$"

# Printed tables give HCS and its inputs to 2 decimals, so a recomputed HCS can differ by a
# little more than 0.01 (leaderboard/seeds.py: HCS_ROUNDING, found on the lifespan paper's Table 1).
HCS_TOLERANCE = 0.015

# The earliest date a claim's numbers can have been published: computational face aging begins in the 1990s (Burt and
# Perrett 1995, Lanitis et al. 2002), so an earlier date (0001-01-01 was shown as given) is a mistake
EARLIEST_DATE = dt.date(1990, 1, 1)

# The same metric key means the same thing (and range) in every task that has it.
_METRICS = {metric.key: metric for task in TASKS.values() for metric in task.metrics}

# What a claim's text may not hold (refused, the character named): controls (NUL, tabs, line breaks), line and
# paragraph separators, private-use and surrogate code points, and the characters that change the direction text is
# shown in (a right-to-left override showed a citation reversed). The fields that name a protocol (its benchmark, input
# set and evaluators: the table's label) refuse every format character and unassigned code point as well: a zero-width
# space made a look-alike of a listed protocol. A citation may hold the rest (a soft hyphen pasted from a PDF, the
# joiners of Persian and Indic names and of emoji, emoji newer than this Python's Unicode tables)
NEVER_IN_TEXT = ("Cc", "Zl", "Zp", "Co", "Cs")
DIRECTION_MARKS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
NEVER_IN_NAMES = ("Cf", "Cn")


def _refused(value: str, names: bool) -> list[str]:
    """The characters of `value` a claim's text may not hold, each as "U+XXXX NAME" (see NEVER_IN_TEXT)."""
    refused = [
        char
        for char in dict.fromkeys(value)
        if unicodedata.category(char) in NEVER_IN_TEXT
        or char in DIRECTION_MARKS
        or (names and unicodedata.category(char) in NEVER_IN_NAMES)
    ]
    kinds = {"Cc": "a control character", "Co": "a private-use character", "Cs": "a surrogate", "Cn": "unassigned"}
    return [f"U+{ord(char):04X} ({unicodedata.name(char, '') or kinds[unicodedata.category(char)]})" for char in refused]


# What a spreadsheet reads as a formula when it starts a cell: the tables' "copy" button hands their text to one as CSV,
# and a citation of =HYPERLINK("http://...","Click for weights") pasted there became a live link (OWASP's CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@")


def not_a_formula(value: str) -> str:
    """`value`, refused (ValueError, for the claim's message) where it starts, after spaces, as a formula does."""
    if value.lstrip().startswith(FORMULA_STARTS):
        raise ValueError(
            f"may not start with {value.lstrip()[0]!r}: a spreadsheet reads such text as a formula when the table is "
            "copied into one"
        )
    return value


def _look_alike(value: str) -> str | None:
    """Why a field that names a protocol may not read `value` as written, or None: a character beyond ASCII (a Cyrillic
    "е" in "celеba-hq-200", an en dash for the hyphen, a no-break space: each a second protocol whose label read, in the
    list and its table, exactly as the listed one), or spaces at its ends or two in a row (a trailing space did the same).
    ASCII alone, as a method's name is (METHOD_NAME): the papers' benchmarks, input sets and evaluators are named so."""
    beyond = [char for char in dict.fromkeys(value) if not char.isascii()]
    if beyond:
        shown = ", ".join(f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, '')})" for char in beyond[:5])
        return f"must be ASCII text, as the listed protocols are named (a look-alike of one names another); it holds {shown}"
    if value != value.strip() or "  " in value:
        return "may not start or end with a space nor hold two in a row (it would read as another protocol's name)"
    return None


def _plain(names: bool):
    def check(value: str) -> str:
        if not value.strip():
            raise ValueError("must hold text, not only spaces")
        not_a_formula(value)
        refused = _refused(value, names)
        if refused:
            raise ValueError(f"must be plain text on one line; it holds {', '.join(refused[:5])}")
        alike = _look_alike(value) if names else None
        if alike is not None:
            raise ValueError(alike)
        return value

    return check


def plain_text(max_length: int, names: bool = False) -> Any:
    """A claim's text field: 1 to `max_length` characters, not only spaces, none that NEVER_IN_TEXT refuses (`names`:
    a field that names the protocol, NEVER_IN_NAMES refused too, and ASCII with single inner spaces: `_look_alike`)."""
    return Annotated[str, Field(min_length=1, max_length=max_length), AfterValidator(_plain(names))]


def _metric_field(key: str) -> Any:
    metric = _METRICS[key]
    description = f"{metric.title}: {metric.description}" + (f" ({metric.unit})" if metric.unit else "")
    if metric.harness_only:
        description += "; optional: recomputed here from its parts, and a claim whose value differs is refused"
    return (float | None, Field(None, ge=metric.low, le=metric.high, description=description, strict=True, allow_inf_nan=False))


ClaimMetrics = create_model(  # one optional, range-checked field per metric of any task
    "ClaimMetrics",
    __config__=ConfigDict(extra="forbid"),
    **{key: _metric_field(key) for key in _METRICS},
)


class ClaimProtocol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the descriptions give the protocol of the lifespan paper's Table 1 as the seeded rows write it: a claim ranks beside
    # rows whose benchmark, input set, target ages, image count and evaluators it gives alike
    benchmark: plain_text(200, names=True) = Field(  # type: ignore[valid-type]
        description="as a listed protocol writes it to be ranked beside its rows, e.g. 'celeba-hq-200, targets 0-80 by 5'"
    )
    input_set: plain_text(200, names=True) = Field(  # type: ignore[valid-type]
        description="which faces, e.g. 'CelebA-HQ test, 100 faces per gender'"
    )
    # numbers ("20" is text), each once, at least one where given (an empty list states no protocol)
    target_ages: list[Annotated[float, Strict()]] | None = Field(
        None, min_length=1, max_length=200, description="ages 0-120, each once"
    )
    n_images: int | None = Field(None, ge=1, le=10_000_000, strict=True)

    @model_validator(mode="after")
    def _ages(self) -> ClaimProtocol:
        ages = self.target_ages or []
        bad = [age for age in ages if not 0 <= age <= 120]
        if bad:
            raise ValueError(f"target_ages must be ages 0-120, got {bad[:5]}")
        repeated = sorted({age for age in ages if ages.count(age) > 1})
        if repeated:
            raise ValueError(f"target_ages lists each age once, got {', '.join(f'{age:g}' for age in repeated)} more than once")
        return self


class ClaimEvaluators(BaseModel):
    model_config = ConfigDict(extra="forbid")

    age_estimator: plain_text(200, names=True) | None = Field(None, description="name@version")  # type: ignore[valid-type]
    identity_model: plain_text(200, names=True) | None = None  # type: ignore[valid-type]
    judge_model: plain_text(200, names=True) | None = None  # type: ignore[valid-type]


class ClaimCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$", max_length=140, description="org/name on the Hub")
    revision: plain_text(100, names=True) | None = None  # type: ignore[valid-type]


class Claim(BaseModel):
    """A reported results record: a method's published numbers under one protocol."""

    model_config = ConfigDict(extra="forbid", title="Face Aging Hub results claim")

    schema_version: Literal[1] = SCHEMA_VERSION
    task: Literal[tuple(TASKS)] = Field(description="the task the numbers measure")  # type: ignore[valid-type]
    # ASCII letters and digits, '.', '_', '+', '-' and inner spaces: `\w` took any script's letters (a Cyrillic "С" in
    # a look-alike of a listed method's name), invisible joiners and stacks of combining marks, and names of spaces only;
    # a letter, digit or '_' first (METHOD_NAME: "-2+3" was a formula in a spreadsheet the table was copied into)
    method: str = Field(min_length=1, max_length=64, pattern=METHOD_NAME)
    method_type: Literal[METHOD_TYPES]  # type: ignore[valid-type]
    provenance: Literal["reported"] = "reported"
    citation: plain_text(300) = Field(description="how to cite the source, e.g. authors, title, venue")  # type: ignore[valid-type]
    link: HttpUrl = Field(description="the paper or the code the numbers come from (http or https)")
    protocol: ClaimProtocol
    evaluators: ClaimEvaluators = ClaimEvaluators()
    metrics: ClaimMetrics
    date: dt.date = Field(description="when the numbers were published (YYYY-MM-DD)")
    checkpoint: ClaimCheckpoint | None = None
    hardware: plain_text(200) | None = None  # type: ignore[valid-type]
    train_set_size: plain_text(100) | None = None  # type: ignore[valid-type]

    @field_validator("method", mode="before")
    @classmethod
    def _not_a_formula(cls, value: object) -> object:
        return not_a_formula(value) if isinstance(value, str) else value

    @field_validator("link")
    @classmethod
    def _no_user(cls, value: HttpUrl) -> HttpUrl:
        if value.username is not None or value.password is not None:
            raise ValueError(
                f"a link may not hold a user name before '@' (https://example.org@{value.host}/ opens {value.host}, not "
                "example.org): give the page's own address"
            )
        return value

    @field_validator("date", mode="before")
    @classmethod
    def _written_as_a_day(cls, value: object) -> object:
        # pydantic reads a number, or "2025", as seconds since 1970 ("Datetimes provided to dates should have zero time")
        if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
            raise ValueError("the date is the day the numbers were published, written YYYY-MM-DD (2025-06-30)")
        return value

    @field_validator("date")
    @classmethod
    def _published(cls, value: dt.date) -> dt.date:
        if value < EARLIEST_DATE:
            raise ValueError(f"the date the numbers were published cannot be before {EARLIEST_DATE} (the field's first papers)")
        # a day's grace: the claim's date may be written where the day has begun and UTC's has not
        latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        if value > latest:
            raise ValueError(
                f"the date the numbers were published cannot be in the future (today is {latest - dt.timedelta(days=1)})"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Claim:
        task = TASKS[self.task]
        given = {key: value for key, value in self.metrics.model_dump().items() if value is not None}
        foreign = sorted(set(given) - {metric.key for metric in task.metrics})
        if foreign:
            raise ValueError(f"metrics {foreign} are not metrics of task {task.key!r} ({', '.join(m.key for m in task.metrics)})")
        if not given:
            raise ValueError(f"no metric given; task {task.key!r} has {', '.join(m.key for m in task.metrics)}")
        # between 0 and 1 in size, not either: 0 is 0 on any scale, and a value of 1 is as likely 1 % as a whole fraction
        unscaled = [f"{m.key} {given[m.key]:g}" for m in task.metrics if m.hundred and 0 < abs(given.get(m.key) or 0) < 1]
        if unscaled:
            raise ValueError(
                f"{', '.join(unscaled)}: on a 0-100 scale (a share in %, a cosine x 100), so a value between 0 and 1 reads "
                "as the fraction itself: give it x 100 (a cosine of 0.62 is 62, a coverage of 0.9 is 90)"
            )
        if "hcs" in given:
            expected = hcs(given.get("age_mae"), given.get("identity"))
            if expected is None:
                raise ValueError(
                    "hcs is given without both age_mae and identity, so it cannot be checked; give both or leave hcs out"
                )
            if abs(expected - given["hcs"]) > HCS_TOLERANCE:
                raise ValueError(
                    f"hcs {given['hcs']:g} does not follow from age_mae {given['age_mae']:g} and identity "
                    f"{given['identity']:g}: 2AI/(A+I) with A = (1 - MAE/40) x 100 gives {expected:.2f}"
                )
        return self

    def to_record(self, notes: dict | None = None) -> ResultsRecord:
        """The `reported` row this claim becomes once approved (HCS recomputed by the record)."""
        data = self.model_dump(mode="json", exclude={"link"})
        metrics = {key: value for key, value in data["metrics"].items() if key in {m.key for m in TASKS[self.task].metrics}}
        metrics.pop("hcs", None)
        data.update(metrics=metrics, code_link=str(self.link), notes=notes or {})
        try:
            return ResultsRecord.from_json(data, submitted=True)
        except RecordError as error:  # the schema and the record share their ranges: a bug if they disagree
            raise ClaimError(f"the claim does not make a valid record: {error}") from None


class ClaimError(ValueError):
    """A refused claim; the message names each bad field and its value."""


def describe(error: ValidationError) -> str:
    """Every problem of a claim in one line: where, what is wrong, the value given (shortened)."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "claim"
        message = problem["msg"].removeprefix("Value error, ")
        given = problem.get("input")
        # text quoted, a number as it is ("got '12.5'" did not tell a string from the number), at most 40 characters
        # of it either way (a 4000-digit number was echoed whole)
        if isinstance(given, (dict, list)) or given is None:
            shown = ""
        elif isinstance(given, str):
            shown = f", got {given[:40]!r}{'...' if len(given) > 40 else ''}"
        else:
            text = repr(given)
            shown = f", got {text[:40]}{'...' if len(text) > 40 else ''}"
        loc = problem["loc"]
        if (
            len(loc) == 2
            and loc[0] == "metrics"
            and loc[1] in _METRICS
            and problem["type"].startswith(("less_than", "greater_than"))
        ):
            metric = _METRICS[str(loc[1])]  # the scale the bound belongs to: zone_score_mae's 1 is a 0-1 fraction
            message += f" ({metric.description}{', ' + metric.unit if metric.unit else ''})"
        parts.append(f"{where}: {message}{shown}")
    return "; ".join(parts)


def parse_claim(data: object) -> Claim:
    if not isinstance(data, dict):
        raise ClaimError(f"a claim is a JSON object, got {type(data).__name__}")
    try:
        return Claim.model_validate(data)
    except ValidationError as error:
        raise ClaimError(describe(error)) from None


def json_schema() -> str:
    return json.dumps(Claim.model_json_schema(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(json_schema())
