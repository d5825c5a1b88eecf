-- Shared by the benchmark's wrk scripts: reads the accounts file (one "token account_id" per line)
-- and prints the run's figures as one JSON line that bench/mix parses.
accounts = {}

function load_accounts(path)
  for line in io.lines(path) do
    local token, id = line:match("^(%S+)%s+(%S+)$")
    if token then accounts[#accounts + 1] = { token = token, id = id } end
  end
end

function pick() return accounts[math.random(#accounts)] end

function get(path, who)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. who.token })
end

-- What every post ends with, URL-encoded (``bench.mix --post-suffix``: hashtags, mentions).
post_suffix = os.getenv("BENCH_POST_SUFFIX") or ""

local words = { "corde", "refuge", "soirée", "ticket", "tombola", "listen", "market", "summit", "river", "share" }

function post(who)
  local n = math.random(4, 12)
  local parts = {}
  for i = 1, n do parts[i] = words[math.random(#words)] end
  return wrk.format("POST", "/api/v1/statuses", {
    ["Authorization"] = "Bearer " .. who.token,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "status=" .. table.concat(parts, "+") .. post_suffix)
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
