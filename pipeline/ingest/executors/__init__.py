"""Where the overnight batch's per-file work runs, chosen by `dailies ingest --executor`.

- `local` (default): executors/local.LocalExecutor, a pool of threads on this machine.
- `ray`: ray_exec.RayExecutor, Ray tasks on a cluster, embedding in Ray actors.

Both run work.process_file on each file and hand its result to batch.run_batch, the only writer of
the catalog. Ray is imported only when its executor is used.
"""
