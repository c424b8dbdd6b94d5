"""The rules as a catalogue: every error names a guard in `domain.rules`, once."""

from __future__ import annotations

import inspect
import re

import domain
from domain import DomainError, rules

ERRORS = sorted(DomainError.__subclasses__(), key=lambda cls: cls.__name__)


def test_every_error_names_a_guard_in_the_rules_module() -> None:
    # GIVEN every specific domain error
    # WHEN we look up the rule each one names
    guards = {name for name, _ in inspect.getmembers(rules, inspect.isfunction)}
    # THEN each is a snake_case guard function a reader finds in domain/rules.py
    for error in ERRORS:
        assert re.fullmatch(r"ensure_[a-z_]+", error.rule), error
        assert error.rule in guards, error


def test_each_rule_has_exactly_one_error() -> None:
    # GIVEN every specific domain error
    # WHEN / THEN no two errors claim the same rule, and every name ends in Error
    assert len({error.rule for error in ERRORS}) == len(ERRORS)
    assert all(error.__name__.endswith("Error") for error in ERRORS)


def test_every_error_is_exported_by_the_domain_package() -> None:
    # GIVEN the public surface of `domain`
    # WHEN / THEN the HTTP layer can import every error from it
    for error in ERRORS:
        assert getattr(domain, error.__name__) is error


def test_an_error_carries_its_rule_and_message() -> None:
    # GIVEN a raised capacity error
    error = domain.CapacityExceededError("round '2015-3' has admitted its capacity")
    # WHEN / THEN it names the rule and keeps the message for problem+json
    assert error.rule == "ensure_capacity_left"
    assert error.message == "round '2015-3' has admitted its capacity"
    assert isinstance(error, DomainError)
