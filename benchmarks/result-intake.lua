-- wrk script: POST /v1/probes/$PROBE/results, each an ad-hoc result with a key of
-- its own (so every request stores a new result), with $OUTPUT (a JSON string
-- literal) as the test's output.
local probe = os.getenv("PROBE")
local output = os.getenv("OUTPUT")
local runAt = os.getenv("RUN_AT")
local counter = 0

function setup(thread)
  thread:set("thread", counter)
  counter = counter + 1
end

function init(args)
  sent = 0
end

function request()
  sent = sent + 1
  local body = string.format(
    '{"run_at":"%s","started_at":"%s","finished_at":"%s","exit_code":0,"idempotency_key":"bench-%s-%d-%d","output":%s}',
    runAt, runAt, runAt, os.getenv("ROUND") or "0", thread or 0, sent, output)
  return wrk.format("POST", "/v1/probes/" .. probe .. "/results",
    { ["Authorization"] = "Bearer token-" .. probe, ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  io.write(string.format("JSON requests/s %.0f  p50 %.2f ms  p99 %.2f ms  max %.2f ms  errors %d  non-2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
