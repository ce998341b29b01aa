"""The load rounds: every request once per round, the order reversed every other round.

The machine may be shared (test suites, other benchmarks). Before each run the bench
waits, briefly, for the other work to pause, and a run during which other work took
more than DISTURBED of the CPU is tried again while the run's time budget allows;
interference only ever lowers a result, so the best attempt is kept. Whatever share
other work took is recorded with the result."""

import time
from dataclasses import dataclass

from bench.interference import DISTURBED, ForeignCpu
from bench.loadgen import LoadResult, run_wrk
from bench.report import Measurement
from bench.variants import Target
from bench.web import BenchError

WARM_UP_SECONDS = 1
# How long to wait, at most, for other work to pause before a run.
QUIET_WAIT_SECONDS = 30
QUIET_SAMPLE_SECONDS = 2
MAX_RETRIES = 2
# In the command line of the PostgreSQL backends serving the bench's databases.
OWN_MARKER = "sp_bench_"


@dataclass
class Schedule:
    """The time left for waiting and retrying: what is not needed for the runs to come."""

    deadline: float  # time.monotonic()
    per_run: float
    runs_left: int

    def spare(self) -> float:
        return self.deadline - time.monotonic() - self.runs_left * self.per_run


def log(message: str) -> None:
    print(message, flush=True)


def signed_in_headers(target: Target) -> dict[str, str]:
    """The target's credentials, once proven: one request answers 200 with the body of
    a signed-in user (a redirect to the login page is a failure, not a success)."""
    headers = target.sign_in()
    problem = target.check(headers)
    if problem:
        raise BenchError(f"{target.label} is not signed in: {problem}")
    return headers


def wait_for_quiet(limit: float) -> None:
    """Return once other work takes at most DISTURBED of the CPU, or after ``limit``."""
    deadline = time.monotonic() + limit
    while time.monotonic() + QUIET_SAMPLE_SECONDS <= deadline:
        with ForeignCpu(OWN_MARKER) as other:
            time.sleep(QUIET_SAMPLE_SECONDS)
        if other.share(QUIET_SAMPLE_SECONDS) <= DISTURBED:
            return


def attempt(target: Target, headers: dict[str, str], seconds: int) -> tuple[LoadResult, float]:
    """Warm up, then ``seconds`` of load: the result and the share of the CPU other work
    took meanwhile. Any answer that is not 2xx fails the bench."""
    for duration in (WARM_UP_SECONDS, seconds):
        with ForeignCpu(OWN_MARKER) as other:
            result = run_wrk(target.server.port, target.path, headers, duration)
        if result.not_2xx:
            raise BenchError(
                f"{target.label}: {result.not_2xx} of {result.requests} answers were not "
                f"2xx (the first: {result.first_not_2xx})"
            )
    share = other.share(result.seconds)
    notes = f", {result.socket_errors} socket errors" if result.socket_errors else ""
    log(
        f"  {result.per_second:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
        f"p99 {result.p99_ms:6.2f} ms  {target.label}{notes}, other work {share:.0%}"
    )
    return result, share


def load(measurement: Measurement, seconds: int, schedule: Schedule) -> None:
    """One round of one request: its best attempt joins the measurement."""
    headers = signed_in_headers(measurement.target)
    wait_for_quiet(min(QUIET_WAIT_SECONDS, schedule.spare()))
    attempts = [attempt(measurement.target, headers, seconds)]
    schedule.runs_left -= 1
    while attempts[-1][1] > DISTURBED and len(attempts) <= MAX_RETRIES:
        spare = schedule.spare() - schedule.per_run
        if spare < 0:
            break
        log("  ... again: other work took the CPU")
        wait_for_quiet(min(QUIET_WAIT_SECONDS, spare))
        attempts.append(attempt(measurement.target, headers, seconds))
    result, share = max(attempts, key=lambda pair: pair[0].per_second)
    measurement.rounds.append(result)
    measurement.other_cpu.append(share)


def run_rounds(
    measurements: list[Measurement], seconds: int, rounds: int, deadline: float
) -> None:
    schedule = Schedule(deadline, WARM_UP_SECONDS + seconds + 1, rounds * len(measurements))
    for number in range(rounds):
        log(f"Round {number + 1} of {rounds}:")
        for m in measurements if number % 2 == 0 else reversed(measurements):
            load(m, seconds, schedule)
