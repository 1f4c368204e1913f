-- The multi-job import demo: run every job here at once, in parallel.
--   stateui watch lua_examples/import/*.lua
require("lib.import_job").run({ name = "reviews", total = 60, per_second = 10 })
