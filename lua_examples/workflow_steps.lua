-- Workflow integration: one step leaves data for the next.

local function load_step()
    State.set("processed_data", {
        records = 1000,
        errors = 5,
        timestamp = os.time()
    })
end

local function report_step()
    local data = State.get("processed_data")
    if data and data.errors > 0 then
        print(string.format("%d records, %d errors: flagging for review", data.records, data.errors))
        State.set("workflow:data_pipeline:status", "needs_review")
    else
        State.set("workflow:data_pipeline:status", "done")
    end
end

load_step()
report_step()
print("status: " .. State.get("workflow:data_pipeline:status"))
