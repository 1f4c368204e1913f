-- One job of the multi-job import demo. It imports `total` records, `per_second` of
-- them a second, and reports under progress:import_<name> the way the guide's Progress
-- Tracking does. With `fails_at`, the record of that number is malformed and the job
-- stops there with an error, its progress left where it got to.

local M = {}

function M.run(job)
    local key = "progress:import_" .. job.name
    local function report(current)
        State.set(key, {
            current = current,
            total = job.total,
            percent = current * 100 / job.total,
            timestamp = os.time(),
        })
    end
    report(0)
    for current = 1, job.total do
        sleep(1 / job.per_second) -- one record's work
        if current == job.fails_at then
            error(string.format("%s: record %d of %d is malformed", job.name, current, job.total))
        end
        report(current)
    end
    print(string.format("%s: %d records imported", job.name, job.total))
end

return M
