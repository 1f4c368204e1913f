-- State.incr is atomic: run this script four times in parallel and the count is exact.
--   stateui run lua_examples/atomic_counter.lua lua_examples/atomic_counter.lua \
--               lua_examples/atomic_counter.lua lua_examples/atomic_counter.lua --dump -
-- leaves "n": 100000. The get-then-set counter of counter.lua would lose updates here.

for _ = 1, 25000 do
    State.incr("n")
end
print("done; n is now " .. State.get("n"))
