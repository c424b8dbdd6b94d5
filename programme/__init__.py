"""What runs only on a developer's or operator's machine, never in a Lambda: the `programme` CLI,
the local stack (`stack/`: the whole system over moto in server mode), round 3 of 2015
(`round3/`: its data, its story told through the API), the report, the rebuild and the template
reader. It may import every floor below it (`functions`, `infra`, `domain`, `events`); nothing
below imports it.
"""
