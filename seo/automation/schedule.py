"""`config/schedule.yaml`: a cron expression per job, a timezone, grace times; validated at load.

The file is optional: without it the clinic defaults below apply. Every error is one line naming
the file, the line and the key (a bad cron expression, an unknown job, a bad timezone).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger
from pydantic import AfterValidator, Field

from ..errors import UserError
from ..settings import Strict
from ..validate import validate_model
from ..yamlio import Located, load_yaml

FILE = "config/schedule.yaml"

# The steps of the weekly pipeline, in order, and every job `seo run` knows.
STEPS = ("build_pages", "audit_site", "publish_site", "verify_live", "inspect_index", "check_rankings",
         "check_grid", "sync_listing", "publish_posts", "fetch_insights", "check_reviews",
         "weekly_report")
# `watch` (alerts between reports) runs on its own, every half hour; never inside `weekly`.
JOBS = (*STEPS, "weekly", "watch")

# Clinic defaults (America/Denver). Rankings and listing drift run daily, except on Monday when
# the weekly pipeline runs them itself just before the report; pages, audit, posts and the report
# run weekly inside `weekly`. Grace: how late a missed run may still start after a restart.
DEFAULTS: dict[str, dict[str, Any]] = {
    "check_rankings": {"cron": "30 5 * * 0,2-6", "grace_minutes": 360},
    "sync_listing": {"cron": "0 6 * * 0,2-6", "grace_minutes": 360},
    "weekly": {"cron": "30 5 * * 1", "grace_minutes": 720},
    "build_pages": {"cron": "0 5 * * 1", "enabled": False},
    "check_grid": {"cron": "0 5 * * 1", "enabled": False},  # weekly, inside `weekly`
    "audit_site": {"cron": "0 3 * * 0", "enabled": False},
    "publish_site": {"cron": "15 5 * * 1", "enabled": False},
    "verify_live": {"cron": "0 8 * * *", "enabled": False},
    "inspect_index": {"cron": "0 9 * * *", "enabled": False},
    "publish_posts": {"cron": "0 10 * * 2", "enabled": False},
    "weekly_report": {"cron": "0 7 * * 1", "enabled": False},
    "watch": {"cron": "*/30 * * * *", "grace_minutes": 10},
    # Business Profile numbers (recent days again until Google's settle) and reviews, daily
    "fetch_insights": {"cron": "15 6 * * 0,2-6", "grace_minutes": 360},
    "check_reviews": {"cron": "45 6 * * 0,2-6", "grace_minutes": 360},
}


DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# crontab's five fields: name, lowest, highest, names for the numbers from the lowest (if any)
CRON_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
               ("month", 1, 12, MONTH_NAMES), ("day of week", 0, 7, DOW_NAMES))
_CRON_ITEM = re.compile(r"^(\*|[0-9A-Za-z]{1,3}(?:-[0-9A-Za-z]{1,3})?)(?:/([0-9]{1,2}))?$")


def _cron_value(text: str, field_: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.isdigit() and len(text) <= 2 and low <= int(text) <= high:
        return int(text)
    if names and text.lower() in names:
        return names.index(text.lower()) + low
    allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
    raise ValueError(f"{field_} {text!r} is not {allowed}")


def check_cron_fields(expr: str) -> list[str]:
    """The five fields of a crontab expression, each checked strictly as crontab(5) reads it:
    comma-separated items, each `*`, a value or a range `a-b`, optionally with a step `/n` after
    `*` or a range. Names are exactly three letters (sun, jan); nothing else is let through to be
    copied into a crontab line (`sun#1`, `tuesdays`, `mon-fri2`, `L`)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} is not a cron expression: give 5 fields "
                         "(minute hour day-of-month month day-of-week)")
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in text.split(","):
            match = _CRON_ITEM.match(item)
            if not match:
                shown = item if len(item) <= 20 else item[:17] + "..."
                raise ValueError(f"{name} {shown!r} is not a value, a range a-b, * or a step /n")
            rng, step = match.groups()
            values = [] if rng == "*" else [_cron_value(v, name, low, high, names)
                                            for v in rng.split("-")]
            if len(values) == 2 and values[0] > values[1]:
                raise ValueError(f"{name} range {rng!r} runs backwards")
            if step is not None:
                if len(values) == 1:
                    raise ValueError(f"{name} {item!r}: a step /n goes after * or a range")
                if not 1 <= int(step) <= high - low + 1:
                    raise ValueError(f"{name} step {step!r} is not 1-{high - low + 1}")
    return fields


def _dow_number(text: str) -> int:
    return _cron_value(text, "day of week", 0, 7, DOW_NAMES) % 7


def crontab_dow(field_: str) -> str:
    """Crontab's day-of-week (0 or 7 = Sunday) as APScheduler names (its numbers start at Monday)."""
    days: set[int] = set()
    for part in field_.split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s.isdigit() and int(step_s) > 0 else None
        if step_s and step is None:
            raise ValueError(f"bad step {step_s!r} in day of week")
        if rng == "*":
            first, last = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            first, last = _dow_number(a), _dow_number(b)
            if b == "7":
                last = 7
            if last < first:
                raise ValueError(f"day-of-week range {rng!r} runs backwards")
        else:
            first = last = _dow_number(rng)
            if step:
                last = 6
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    if days == set(range(7)):
        return "*"
    return ",".join(DOW_NAMES[d] for d in sorted(days))


def check_cron(expr: str, timezone: ZoneInfo | None = None) -> CronTrigger:
    """A 5-field crontab expression (minute hour day month weekday) as an APScheduler trigger.

    APScheduler 3 numbers weekdays from Monday (0) where crontab starts at Sunday, and ANDs a
    restricted day-of-month with a restricted day-of-week where cron ORs them: weekdays are
    translated to names, and restricting both is refused rather than run on different days."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} is not a cron expression: give 5 fields "
                         "(minute hour day-of-month month day-of-week)")
    try:
        minute, hour, day, month, dow = check_cron_fields(expr)
    except ValueError as exc:
        raise ValueError(f"{expr!r} is not a valid cron expression: {exc}") from None
    if day != "*" and dow != "*":
        raise ValueError(f"{expr!r}: give a day of month or a day of week, not both")
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=crontab_dow(dow), timezone=timezone)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"{expr!r} is not a valid cron expression: {exc}") from None


class JobSpec(Strict):
    cron: str = Field(max_length=100)
    enabled: bool = True
    grace_minutes: int = Field(default=360, ge=1, le=7 * 24 * 60)
    # audit_site: which site to audit. auto = the live site once business.url is real, else the build.
    target: Literal["auto", "live", "built"] = "auto"
    # sync_listing: also push the plan (drift policy `restore` included); false = drift + plan only.
    apply: bool = False
    # weekly: the steps, in order.
    steps: list[Literal[STEPS]] = list(STEPS)  # type: ignore[valid-type]


@functools.cache
def iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    """An IANA zone name the system knows (`America/Denver`); never a folder of the zone database
    (`America`) or anything the file system would choke on."""
    if value not in iana_zones():
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(f"unknown timezone {shown!r} (an IANA name, e.g. America/Denver)")
    return value


class ScheduleFile(Strict):
    timezone: Annotated[str, AfterValidator(check_timezone)] = "America/Denver"
    jobs: dict[str, dict[str, Any]] = {}


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    enabled: bool
    grace_minutes: int
    spec: JobSpec

    @property
    def grace_seconds(self) -> int:
        return self.grace_minutes * 60


@dataclass
class Schedule:
    timezone: str
    jobs: dict[str, Job] = field(default_factory=dict)
    file: str = FILE

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def trigger(self, name: str) -> CronTrigger:
        return check_cron(self.jobs[name].cron, self.tz)

    def enabled(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.enabled]

    def spec(self, name: str) -> JobSpec:
        return self.jobs[name].spec


def default_schedule() -> Schedule:
    return _build(ScheduleFile(), Located(data={}, file=FILE))


def load_schedule(root: Path | str) -> Schedule:
    """Read config/schedule.yaml under `root` (the clinic defaults when it is absent)."""
    path = Path(root) / FILE
    if not os.path.lexists(path):
        return default_schedule()
    located = load_yaml(path, FILE, Path(root))
    if located.data is None or located.data == {}:
        return default_schedule()
    if not isinstance(located.data, dict):
        raise UserError("expected a mapping with timezone and jobs", file=FILE, line=1)
    return _build(validate_model(ScheduleFile, located), located)


def _build(parsed: ScheduleFile, located: Located) -> Schedule:
    tz = ZoneInfo(parsed.timezone)
    jobs: dict[str, Job] = {}
    for name in parsed.jobs:
        if name not in JOBS:
            raise UserError(f"unknown job {name!r} (known: {', '.join(JOBS)})", file=FILE,
                            key=f"jobs.{name}", line=located.line_of(f"jobs.{name}"))
    for name in JOBS:
        given = parsed.jobs.get(name)
        if given is not None and not isinstance(given, dict):
            raise UserError("expected a mapping with cron (and enabled, grace_minutes)", file=FILE,
                            key=f"jobs.{name}", line=located.line_of(f"jobs.{name}"))
        raw = {**DEFAULTS[name], **(given or {})}
        spec = validate_model(JobSpec, Located(data=raw, file=FILE, lines={
            k.removeprefix(f"jobs.{name}."): v for k, v in located.lines.items()
            if k.startswith(f"jobs.{name}.")}), prefix=f"jobs.{name}.")
        try:
            check_cron(spec.cron, tz)
        except ValueError as exc:
            key = f"jobs.{name}.cron"
            raise UserError(str(exc), file=FILE, key=key, line=located.line_of(key)) from None
        jobs[name] = Job(name, spec.cron, spec.enabled, spec.grace_minutes, spec)
    return Schedule(parsed.timezone, jobs)
