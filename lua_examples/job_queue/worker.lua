-- The worker's loop, shared by worker_1.lua and worker_2.lua (see producer.lua).
local worker = {}

function worker.run(name)
  -- Wait for the queue: from the revision before the first look, so that a queue
  -- opened between the look and the wait still counts.
  local before = State.revision()
  local total = State.get("queue:total")
  if not total then
    local opened = State.wait("queue:total", 10, before)
    if not opened then
      error("no queue after 10 seconds: run producer.lua with the workers")
    end
    total = opened.value
  end

  local taken = 0
  while true do
    local id = State.incr("queue:next") -- atomic: each job goes to one worker
    if id > total then
      break
    end
    local job = State.get("jobs:" .. id)
    local sum = 0
    for _, n in ipairs(job.numbers) do
      sum = sum + n * n
    end
    sleep(0.02) -- the work
    State.set("results:" .. id, { worker = name, sum = sum })
    taken = taken + 1
  end
  print(("%s took %d jobs"):format(name, taken))
end

return worker
