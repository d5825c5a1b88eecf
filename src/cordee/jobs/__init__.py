"""Background work that must happen at a given time (scheduled notes, poll endings…).

Work is *derived from the database*, never held in memory: each periodic task asks the database
what is due (``scheduled_at <= now``, ``expires_at <= now and not yet closed``) and does it through
actions. So nothing is lost across a restart or crash: what fell due while the server was down is
done on the next tick. Each task must be idempotent and safe to run from several processes
(claim rows inside the write transaction before acting on them).
"""
