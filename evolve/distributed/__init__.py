"""Multi-worker runs: many search workers and one trainer service share a run through PostgreSQL.

Coordination goes only through the database (Optuna's distributed pattern, no scheduler):

- `registry`: each process registers a `workers` row and heartbeats it; the heartbeat is the
  lease on every batch the process holds.  A batch whose holder's heartbeat is older than the
  grace period is claimed by another worker (`SELECT ... FOR UPDATE SKIP LOCKED`), which
  regenerates it and commits the completions not committed yet.
- `search`: `DistributedSearch`, the single-process `evolve.search.Search` whose transitions run
  under a row lock on the run and first reload what other workers changed (counters, binning,
  cells, program membership); cell writes are conditional (a child replaces an elite only if
  fitter), so the archive is right whatever the interleaving.
- `worker`: `evolve worker`'s driver (plan/claim, generate, evaluate, commit; throttled by the
  trainer service; picks up published adapters); `trainer_service`: `evolve trainer serve`.
"""
