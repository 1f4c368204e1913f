-- The guide's counter pattern: get, add, set. Fine in one script; when scripts run in
-- parallel it can lose updates (see atomic_counter.lua for the safe way).

local function increment_counter(key)
    local count = State.get(key) or 0
    State.set(key, count + 1)
    return count + 1
end

local attempts
for _ = 1, 3 do
    attempts = increment_counter("api_attempts")
end
print("api_attempts = " .. attempts)
