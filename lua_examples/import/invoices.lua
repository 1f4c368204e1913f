-- The multi-job import demo: run every job here at once, in parallel.
--   stateui watch lua_examples/import/*.lua
-- This one fails halfway: record 50 of 100 is malformed.
require("lib.import_job").run({ name = "invoices", total = 100, per_second = 20, fails_at = 50 })
