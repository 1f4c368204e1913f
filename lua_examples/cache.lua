-- The cache pattern: compute once, then serve from State.

local fetches = 0

local function fetch_user_from_api(id)
    fetches = fetches + 1
    return { id = id, name = "user " .. id, fetched_at = os.time() }
end

local function get_with_cache(key, fetch_function)
    local cached = State.get("cache:" .. key)
    if cached then
        return cached
    end

    local value = fetch_function()
    State.set("cache:" .. key, value)
    return value
end

for _ = 1, 3 do
    local data = get_with_cache("user_123", function()
        return fetch_user_from_api(123)
    end)
    print("got " .. data.name)
end
print("fetched from the API " .. fetches .. " time(s)")
