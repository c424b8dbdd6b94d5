"""The write-side entry points' tests use `env`, `rounds` and `open_round` from
tests/support/stack.py: the stack under moto, and a round to act on."""
