-- A small data pipeline: steps, progress, a cache and a summary, all in State.
-- Watch it with `stateui watch lua_examples/pipeline.lua`: each save runs it again.
-- `stateui run lua_examples/pipeline.lua --dump -` prints what it leaves behind.

local pipeline = "workflow:data_pipeline"
State.set(pipeline .. ":status", "running")
State.set(pipeline .. ":started_at", os.time())
State.set(pipeline .. ":records", 0) -- the store outlives a run: count afresh each time

local users = { "ada", "grace", "linus", "barbara", "ken", "margaret" }
local total = #users

for i, name in ipairs(users) do
    -- Pretend to call an API, and cache what it returned.
    State.set("cache:api_response:user_" .. name, {
        name = name,
        score = #name * 7,
        tags = { "imported", i % 2 == 0 and "even" or "odd" },
    })
    State.incr(pipeline .. ":records")
    State.set("progress:import_users", {
        current = i,
        total = total,
        percent = (i / total) * 100,
        timestamp = os.time(),
    })
    print(string.format("[%d/%d] imported %s", i, total, name))
    sleep(0.05)
end

local summary = { records = State.get(pipeline .. ":records"), errors = 0, users = {} }
for _, key in ipairs(State.list("cache:api_response:")) do
    local user = State.get(key)
    -- Keys added by hand (in the inspector, say) may hold anything.
    if type(user) == "table" and user.name then
        table.insert(summary.users, user.name)
    end
end
State.set(pipeline .. ":summary", summary)
State.set(pipeline .. ":status", "done")
print("pipeline done: " .. summary.records .. " records")
