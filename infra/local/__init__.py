"""Running the round lifecycle without AWS: moto's Step Functions interpreter executes the real
ASL, its Lambda tasks run the real handlers in this process, and time is a clock you move.
"""
