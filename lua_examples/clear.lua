-- State.clear(prefix) deletes a whole group of keys and says how many went;
-- State.list(prefix) and State.exists(key) look before you leap.

for i = 1, 5 do
    State.set("cache:api_response:user_" .. i, { id = i })
end
State.set("workflow:data_pipeline:status", "running")

print("cached: " .. #State.list("cache:"))
print("cleared " .. State.clear("cache:") .. " cache keys")
print("cache:api_response:user_1 exists: " .. tostring(State.exists("cache:api_response:user_1")))
print("kept: " .. table.concat(State.list(), ", "))
