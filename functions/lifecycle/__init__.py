"""The round lifecycle's Lambda tasks, the stream-triggered starter and the daily reconciler.

The state machine (`infra/statemachines/round_lifecycle.asl.json`) loops: `next_transition`
reads the round and says what is due and until when to wait (until it is due: no cap);
`apply_transition` runs that transition's command; `hand_over` starts the execution that
carries the round on when this one has lived long enough or found a newer schedule
(`policy`); `record_failure` logs and counts a failure the machine caught. `starter` follows
the round's schedule from the event stream (starts the first execution, replaces it on a
reschedule, stops it on a cancellation: `executions` names them), `reconciler` mends the
rest daily.
"""
