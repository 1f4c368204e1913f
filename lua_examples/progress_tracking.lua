-- Progress tracking: progress:<id> records that stateui can show live.

local function track_progress(workflow_id, current, total)
    State.set("progress:" .. workflow_id, {
        current = current,
        total = total,
        percent = (current / total) * 100,
        timestamp = os.time()
    })
end

local total = 20
for i = 1, total do
    -- ... one unit of work ...
    sleep(0.05)
    track_progress("import_job", i, total)
end
local p = State.get("progress:import_job")
print(string.format("import_job: %d/%d (%.0f%%)", p.current, p.total, p.percent))
