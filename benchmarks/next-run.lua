-- wrk script: GET /v1/probes/{id}/next for probes bench-0 … bench-(N-1), in turn,
-- each with its own bearer token. N comes from the PROBES environment variable.
local probes = tonumber(os.getenv("PROBES") or "10000")
local counter = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

function init(args)
  index = offset or 0
end

function request()
  index = (index + 1) % probes
  local id = "bench-" .. index
  return wrk.format("GET", "/v1/probes/" .. id .. "/next", { ["Authorization"] = "Bearer token-" .. id })
end

function done(summary, latency, requests)
  io.write(string.format("JSON requests/s %.0f  p50 %.2f ms  p99 %.2f ms  max %.2f ms  errors %d  non-2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
