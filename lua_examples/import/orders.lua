-- The multi-job import demo: run every job here at once, in parallel.
--   stateui watch lua_examples/import/*.lua
require("lib.import_job").run({ name = "orders", total = 200, per_second = 50 })
