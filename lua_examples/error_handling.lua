-- Handle missing keys gracefully.

-- Safe pattern
local value = State.get("might_not_exist")
if value then
    print("found: " .. tostring(value))
else
    -- Handle missing key
    State.set("might_not_exist", "default_value")
    print("set a default")
end

-- With defaults
local retries = State.get("retry_count") or 0
print("retries: " .. retries)
