-- State.update: an atomic read-modify-write. The function gets the current value
-- (nil when missing) and returns the new one; returning nil deletes the key.
-- If another script changes the key meanwhile, the function runs again on the new value.

State.set("inventory:widgets", { count = 10, reserved = 0 })

local after = State.update("inventory:widgets", function(item)
    item.count = item.count - 3
    item.reserved = item.reserved + 3
    return item
end)
print(string.format("widgets: %d left, %d reserved", after.count, after.reserved))

-- Keep a bounded list of recent events
for i = 1, 5 do
    State.update("events:recent", function(list)
        list = list or {}
        table.insert(list, "event " .. i)
        if #list > 3 then
            table.remove(list, 1)
        end
        return list
    end)
end
print("recent: " .. table.concat(State.get("events:recent"), ", "))
