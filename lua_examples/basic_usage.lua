-- Basic usage: the four functions of the State guide.

-- Store a value
State.set("key", "value")

-- Retrieve a value
local value = State.get("key")
print("key = " .. value)

-- Delete a value
State.delete("key")
print("after delete: " .. tostring(State.get("key")))

-- List all keys
State.set("greeting", "hello")
State.set("answer", 42)
local keys = State.list()
print("keys: " .. table.concat(keys, ", "))
