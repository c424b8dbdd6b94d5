"""The round lifecycle's Lambda tasks, the stream-triggered starter and the daily reconciler.

The state machine (`infra/statemachines/round_lifecycle.asl.json`) loops: `next_transition`
reads the round and says what is due and until when to wait; `apply_transition` runs that
transition's command; `hand_over` starts the round's next execution when this one has run
long enough (`policy`); `record_failure` logs and counts a failure the machine caught.
`starter` starts the first execution from the event stream, `reconciler` mends the rest daily.
"""
