"""The results: a table on stdout, docs/PERFORMANCE.md and docs/performance.png."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.interference import DISTURBED
from bench.loadgen import LoadResult
from bench.variants import ANCHOR_DB, ANCHOR_SIGNED, ANCHOR_SIMPLEJWT, Target

TIMES = "\N{MULTIPLICATION SIGN}"
_SELECT_LIST = re.compile(r"^SELECT .*? FROM ", re.DOTALL)
# Key hashes and ids of the run's sessions: throwaway, but no business in a document.
_SECRETISH = re.compile(r"'[0-9a-f]{32,}'")


@dataclass
class Measurement:
    target: Target
    statements: float = 0.0
    writes: float = 0.0
    sql: list[str] = field(default_factory=list)
    rounds: list[LoadResult] = field(default_factory=list)
    # The share of the machine's CPU other work took during each round.
    other_cpu: list[float] = field(default_factory=list)

    @property
    def best_index(self) -> int:
        return max(range(len(self.rounds)), key=lambda i: self.rounds[i].per_second)

    @property
    def best(self) -> LoadResult:
        return self.rounds[self.best_index]


@dataclass
class Report:
    measurements: list[Measurement]
    facts: dict[str, str]
    command: str
    seconds_per_run: int
    arguments: str = ""
    elapsed: float = 0.0

    def find(self, family: str, kind: str, api: bool | None = None) -> Measurement:
        for m in self.measurements:
            same_kind = m.target.family == family and m.target.kind == kind
            if same_kind and (api is None or ("/api/" in m.target.path) == api):
                return m
        raise LookupError((family, kind, api))

    def anchor(self, column: str, target: Target) -> Measurement | None:
        """The peer request a target is held against in ``column``."""
        if column == ANCHOR_SIMPLEJWT:
            return self.find(ANCHOR_SIMPLEJWT, "json") if target.kind == "json" else None
        kind = "page" if target.kind == "page" else "json"
        return self.find(column, kind)

    def ratio(self, column: str, measurement: Measurement) -> float | None:
        anchor = self.anchor(column, measurement.target)
        if anchor is None:
            return None
        return measurement.best.per_second / anchor.best.per_second


COLUMNS = (ANCHOR_SIMPLEJWT, ANCHOR_DB, ANCHOR_SIGNED)
HEADINGS = [
    "request",
    "req/s",
    "p50 ms",
    "p99 ms",
    "SQL/req",
    "writes/req",
    f"{TIMES} simplejwt",
    f"{TIMES} stock db",
    f"{TIMES} signed_cookies",
]


def _ratio_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}{TIMES}"


def table_rows(report: Report) -> list[list[str]]:
    rows = []
    for m in report.measurements:
        best = m.best
        rows.append(
            [
                m.target.label,
                f"{best.per_second:.0f}",
                f"{best.p50_ms:.2f}",
                f"{best.p99_ms:.2f}",
                f"{m.statements:g}",
                f"{m.writes:g}",
                *(_ratio_text(report.ratio(column, m)) for column in COLUMNS),
            ]
        )
    return rows


def text_table(headings: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [headings, *rows]) for i in range(len(headings))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    return "\n".join([line(headings), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(headings: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class Goal:
    text: str
    measured: str
    met: bool


def _ratio_goal(report: Report, path: str, column: str, minimum: float) -> Goal:
    m = next(
        x for x in report.measurements if x.target.family == "portal" and x.target.path == path
    )
    value = report.ratio(column, m)
    assert value is not None
    anchor = report.anchor(column, m.target)
    assert anchor is not None
    return Goal(
        f"`{path}` ≥ {minimum:.1f}{TIMES} {anchor.target.label}",
        f"{value:.2f}{TIMES} ({m.best.per_second:.0f} vs {anchor.best.per_second:.0f} req/s)",
        value >= minimum,
    )


def _per_request_goal(
    report: Report,
    family: str,
    paths: list[str],
    what: str,
    maximum: float,
    value: Callable[[Measurement], float],
) -> Goal:
    ms = [m for m in report.measurements if m.target.family == family and m.target.path in paths]
    measured = ", ".join(f"`{m.target.path}` {value(m):g}" for m in ms)
    limit = f"≤ {maximum:g}" if maximum else "no"
    return Goal(
        f"{family}: {limit} {what} per request",
        measured,
        all(value(m) <= maximum for m in ms),
    )


def goals(report: Report) -> list[Goal]:
    """Issue 7, item 1 (and item 2's SQL target, with REDIS_URL), against this run."""
    cheap = ["/api/auth/me", "/session/status/"]
    every = [*cheap, "/settings/security/"]
    return [
        _ratio_goal(report, "/api/auth/me", ANCHOR_SIMPLEJWT, 1.0),
        _ratio_goal(report, "/session/status/", ANCHOR_DB, 1.0),
        _ratio_goal(report, "/session/status/", ANCHOR_SIGNED, 0.9),
        _ratio_goal(report, "/settings/security/", ANCHOR_DB, 0.8),
        _per_request_goal(report, "portal", cheap, "SQL statement", 1, lambda m: m.statements),
        _per_request_goal(report, "portal", every, "writes", 0, lambda m: m.writes),
        _per_request_goal(
            report, "portal+redis", cheap, "SQL statements (item 2)", 0, lambda m: m.statements
        ),
    ]


def goal_lines(report: Report) -> list[str]:
    return [
        f"- **{'MET' if goal.met else 'NOT MET'}**: {goal.text}; measured {goal.measured}"
        for goal in goals(report)
    ]


def print_report(report: Report) -> None:
    print()
    print(text_table(HEADINGS, table_rows(report)))
    print()
    print("Issue 7 targets:")
    print("\n".join(goal_lines(report)).replace("**", ""))
    print(disturbance_note(report))


def _rounds_table(report: Report) -> str:
    count = len(report.measurements[0].rounds)
    headings = ["request"]
    for i in range(count):
        headings += [f"round {i + 1} req/s", "p99 ms", "other work"]
    rows = []
    for m in report.measurements:
        row = [m.target.label]
        for result, other in zip(m.rounds, m.other_cpu, strict=True):
            row += [f"{result.per_second:.0f}", f"{result.p99_ms:.2f}", f"{other:.0%}"]
        rows.append(row)
    return markdown_table(headings, rows)


def disturbed(report: Report) -> list[str]:
    """Requests whose best round shared the machine with other work above DISTURBED."""
    return [
        f"{m.target.label} ({m.other_cpu[m.best_index]:.0%})"
        for m in report.measurements
        if m.other_cpu[m.best_index] > DISTURBED
    ]


def disturbance_note(report: Report) -> str:
    found = disturbed(report)
    if not found:
        return (
            f"No best round shared the machine with other work above {DISTURBED:.0%} of its CPU."
        )
    return (
        f"Other work took more than {DISTURBED:.0%} of the machine's CPU during the best "
        f"round of: {'; '.join(found)}. Those numbers are low; run again on a quiet machine."
    )


def _short_sql(sql: str) -> str:
    """A statement with its column list and long hex values elided: the tables, joins
    and conditions show."""
    sql = _SELECT_LIST.sub("SELECT … FROM ", sql, count=1)
    return _SECRETISH.sub("'…'", sql)[:600]


def _sql_section(report: Report) -> str:
    parts = []
    for m in report.measurements:
        if not m.target.family.startswith("portal"):
            continue
        statements = "\n".join(f"    {_short_sql(sql)}" for sql in m.sql) or "    (none)"
        parts.append(f"`{m.target.label}`:\n\n{statements}\n")
    return "\n".join(parts)


SECTION = "## Throughput against the peers"


def markdown_section(report: Report, method: str) -> str:
    facts = "\n".join(f"| {name} | {value} |" for name, value in report.facts.items())
    return f"""{SECTION}

Generated by `make bench` ([bench/run.py](../bench/run.py)); run it again rather than
editing this section. Exact command: `{report.command}` (which runs
`.venv-bench/bin/python -m bench.run{report.arguments}`). The run took {report.elapsed:.0f} s.

### Result

Best of the interleaved rounds for each request; ratios are requests per second
against the anchor of the same kind (the API call and cheap requests against the
peer's JSON view or simplejwt, pages against the peer's page).

{markdown_table(HEADINGS, table_rows(report))}

{disturbance_note(report)}

![Requests per second of each variant](performance.png)

### Issue 7 targets

{chr(10).join(goal_lines(report))}

### Machine

| | |
|---|---|
{facts}

### Method

{method}

### Every round

{_rounds_table(report)}

### The portal's SQL, per request

What one request of each portal variant sent to PostgreSQL (the last counted one):

{_sql_section(report)}"""


def write_markdown(report: Report, path: Path, method: str) -> None:
    """Put this run's section in ``path`` in place of the last run's, or first; other
    sections (make scale-report writes "## Scale") stay as they are."""
    section = markdown_section(report, method).rstrip() + "\n"
    text = path.read_text() if path.exists() else "# Performance\n"
    old = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", text, flags=re.M | re.S)
    if old:
        rest = text[old.end() :]
        text = text[: old.start()] + section + ("\n" + rest if rest else "")
    else:
        title, _, others = text.partition("\n")
        text = f"{title}\n\n{section}" + (f"\n{others.lstrip()}" if others.strip() else "")
    path.write_text(text)
