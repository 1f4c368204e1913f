-- The multi-job import demo: run every job here at once, in parallel.
--   stateui watch lua_examples/import/*.lua
require("lib.import_job").run({ name = "products", total = 150, per_second = 30 })
