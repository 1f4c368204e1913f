-- Working with complex data: tables are stored as JSON and come back as fresh tables.

-- Store a table
State.set("user_config", {
    name = "John",
    retries = 3,
    settings = {
        timeout = 30,
        verbose = true
    }
})

-- Retrieve and use
local config = State.get("user_config")
print("Retries: " .. config.retries)
print("Timeout: " .. config.settings.timeout)

-- What you get back is a copy: changing it does not change the store.
config.retries = 99
print("Stored retries still: " .. State.get("user_config").retries)
