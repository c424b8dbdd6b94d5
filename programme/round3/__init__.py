"""Round 3 of 2015: what happened (`data`), told through the handlers (`story`) and loaded into a
running local stack through its HTTP API (`loader`).
"""
