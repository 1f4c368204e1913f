-- A job queue: this producer hands out jobs, two workers take them, and the
-- producer waits for every result, then writes a summary. Run all three together:
--   stateui run lua_examples/job_queue/producer.lua \
--     lua_examples/job_queue/worker_1.lua lua_examples/job_queue/worker_2.lua
-- Nobody polls: each side blocks in State.wait until the other has written. On a
-- Redis store, each can be a process of its own, on any machine:
--   stateui run --store redis://HOST:6379/0 lua_examples/job_queue/worker_1.lua

local jobs = {
  { numbers = { 3, 4 } },
  { numbers = { 1, 2, 2 } },
  { numbers = { 6 } },
  { numbers = { 2, 3, 6 } },
  { numbers = { 1, 4, 8 } },
  { numbers = { 5, 12 } },
}

-- A store that outlives a run (a file, Redis) may hold the last one's queue: start
-- clean. (The queue is closed at the end, so workers started before this wait.)
State.clear("jobs:")
State.clear("results:")
State.clear("queue:")

-- Every change from here on counts: results written before we wait are not missed.
local start = State.revision()

for id, job in ipairs(jobs) do
  State.set("jobs:" .. id, job)
end
State.set("queue:total", #jobs) -- last: the workers start once every job is there

local results, done = {}, 0
local after = start
while done < #jobs do
  local change = State.wait("results:*", 10, after)
  if not change then
    error(("no result for 10 seconds (%d of %d done): are the workers running?"):format(done, #jobs))
  end
  after = change.version
  if change.op == "set" and not results[change.key] then
    results[change.key] = change.value
    done = done + 1
  end
end

local total, by_worker = 0, {}
for _, result in pairs(results) do
  total = total + result.sum
  by_worker[result.worker] = (by_worker[result.worker] or 0) + 1
end
State.delete("queue:total") -- closed: the next run's workers wait for a new queue
State.set("queue:summary", { jobs = done, total = total, by_worker = by_worker })
print(("%d jobs done, the sums of squares add up to %d"):format(done, total))
