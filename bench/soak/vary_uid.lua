-- vary_uid.lua - wrk script for the soak run: GET /rtc/<channel>/publisher/uid/<uid>/?expiry=3600
-- with a different uid on every request (each wrk thread counts through its own uid range), so
-- every response is a freshly minted token for a new (channel, uid) pair.
--
--   wrk -t1 -c64 -d300s --latency -s bench/soak/vary_uid.lua http://127.0.0.1:8080 -- soak-channel
--
-- The optional script argument after "--" is the channel name (default "soak").
-- done() prints one line "SOAK_SUMMARY {json}" that run_soak.py reads.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local channel = "soak"
local counter = 0
local base = 1

function init(args)
  if args[1] ~= nil and args[1] ~= "" then channel = args[1] end
  -- id is set by setup() in this thread's Lua state; ranges of 100 M uids per thread.
  base = (id or 0) * 100000000 + 1
end

function request()
  local uid = (base + counter) % 4294967295 + 1  -- 1 .. 4294967295, never the wildcard 0
  counter = counter + 1
  return wrk.format("GET", "/rtc/" .. channel .. "/publisher/uid/" .. uid .. "/?expiry=3600")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SOAK_SUMMARY {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
