-- The bench's wrk script (bench/load.mjs runs it). Headers come from BENCH_HEADERS, one
-- "name<TAB>value" per line, so the session cookie stays out of `ps`. BENCH_MAX_REQUESTS, when
-- set, stops the run after that many answers (a fixed request count for profiles; run with
-- -t1): wrk's main thread sleeps for the whole -d, so the script interrupts it as Ctrl-C would.
-- done() prints one line, "BENCH_RESULT <json>": the answers, how many were not 2xx, the socket
-- errors and the whole latency histogram (µs, count) so that rounds can be merged exactly. wrk
-- hands done() that histogram corrected for coordinated omission (its stats_correct: an answer
-- slower than twice the mean interval adds the answers a steady client would have queued behind
-- it), as its own printed percentiles are; so it holds more entries than answers.
local ffi = require("ffi")
ffi.cdef("int getpid(void); int kill(int pid, int sig);")
local SIGINT = 2
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  answers = 0
  non2xx = 0
  limit = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "")
  for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^\t\n]+)\t([^\n]*)") do
    wrk.headers[name] = value
  end
end

function response(status, headers, body)
  answers = answers + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if limit and answers == limit then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  local buckets = {}
  for i = 1, #latency do
    local us, count = latency(i)
    buckets[i] = string.format("[%d,%d]", us, count)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"non2xx":%d,"errors":%d,"histogram":[%s]}\n',
    summary.requests, summary.duration, bad,
    e.connect + e.read + e.write + e.timeout, table.concat(buckets, ",")))
end
