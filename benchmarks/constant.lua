-- wrk script: any route, reported the same way as next-run.lua (operator-pages.sh).
function done(summary, latency, requests)
  io.write(string.format("JSON requests/s %.0f  p50 %.2f ms  p99 %.2f ms  max %.2f ms  errors %d  non-2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
