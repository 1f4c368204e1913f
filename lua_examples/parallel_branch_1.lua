-- Parallel branches, part 1. Run both parts together:
--   stateui run lua_examples/parallel_branch_1.lua lua_examples/parallel_branch_2.lua
-- State is thread-safe: each branch writes its own flag, both wait for the other.

sleep(0.1) -- this branch's work
State.set("branch_1_complete", true)
print("branch 1 done")

-- Check if all branches are done (giving the other branch 10 seconds)
local deadline = os.time() + 10
while not (State.get("branch_1_complete") and State.get("branch_2_complete")) do
    if os.time() > deadline then
        error("branch 2 did not finish: run both parallel_branch scripts together")
    end
    sleep(0.01)
end
print("All branches complete")
