-- wrk script of make bench. Headers come from BENCH_HEADERS ("Name: value" lines), so
-- a cookie or a bearer token never lands on a command line. Every answer that is not
-- 2xx is counted: wrk's own "Non-2xx or 3xx" line lets a redirect to the login page
-- pass as success. done() prints one JSON line that bench/loadgen.py reads.

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

not_2xx = 0
first_not_2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
    if first_not_2xx == 0 then
      first_not_2xx = status
    end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_2xx")
    if first == 0 then
      first = thread:get("first_not_2xx")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "not_2xx": %d, "first_not_2xx": %d, '
      .. '"socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, bad, first,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
