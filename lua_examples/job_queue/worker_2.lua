-- A worker of the job queue (see producer.lua).
require("worker").run("worker_2")
