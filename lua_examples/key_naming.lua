-- Scope keys with colon prefixes: stateui shows them as a tree.

local userData = { id = 123, name = "Ada", plan = "pro" }

State.set("workflow:data_pipeline:status", "running")
State.set("workflow:data_pipeline:progress", 0.5)
State.set("cache:api_response:user_123", userData)

for _, key in ipairs(State.list("workflow:")) do
    print(key)
end
