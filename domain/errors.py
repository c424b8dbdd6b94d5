"""Typed domain errors: one subclass per rule, each naming the guard in `domain.rules` it breaks.

The HTTP layer answers a `DomainError` with 409 problem+json carrying `rule` and the message, so
messages name organisation numbers, pair ids, dates and states — never a person.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A command broke a rule of the programme; `rule` names the guard function that refused it."""

    rule: ClassVar[str] = "domain_rule"

    @property
    def message(self) -> str:
        return str(self)


# The round and its schedule


class RoundNotFoundError(DomainError):
    rule = "ensure_round_exists"


class RoundAlreadyScheduledError(DomainError):
    rule = "ensure_round_is_new"


class DatesNotIncreasingError(DomainError):
    rule = "ensure_dates_increasing"


class InvalidCapacityError(DomainError):
    rule = "ensure_capacity_in_range"


class NoThemesError(DomainError):
    rule = "ensure_themes_given"


class UnknownThemeError(DomainError):
    rule = "ensure_known_themes"


class DateAlreadyPassedError(DomainError):
    rule = "ensure_date_still_movable"


class RoundCancelledError(DomainError):
    rule = "ensure_round_not_cancelled"


class RoundClosedError(DomainError):
    rule = "ensure_round_not_closed"


class RoundNotRunningError(DomainError):
    rule = "ensure_round_is_running"


class SelectionNotStartedError(DomainError):
    rule = "ensure_selection_under_way"


# Applications


class InvalidOrgNumberError(DomainError):
    rule = "ensure_valid_org_number"


class InvalidAgencyNameError(DomainError):
    rule = "ensure_agency_name"


class ApplicationWindowClosedError(DomainError):
    rule = "ensure_round_is_open"


class OrganiserCannotApplyError(DomainError):
    rule = "ensure_not_organiser"


class DuplicateApplicationError(DomainError):
    rule = "ensure_first_application"


class PreferredPartnerIsApplicantError(DomainError):
    rule = "ensure_partner_is_another_agency"


class ApplicationNotFoundError(DomainError):
    rule = "ensure_has_applied"


class ApplicationNotLiveError(DomainError):
    rule = "ensure_application_live"


class ApplicationWithdrawnError(DomainError):
    rule = "ensure_not_withdrawn"


class AgencyInActivePairError(DomainError):
    rule = "ensure_not_in_active_pair"


# Selection and participants


class CapacityExceededError(DomainError):
    rule = "ensure_capacity_left"


class TrioNeedsOddCountError(DomainError):
    rule = "ensure_trio_keeps_odd_count"


class AgencyNotAdmittedError(DomainError):
    rule = "ensure_admitted"


class DirectorGeneralAlreadyNominatedError(DomainError):
    rule = "ensure_one_director_general"


# Pairs, plans and presentations


class PairSizeError(DomainError):
    rule = "ensure_pair_size"


class PairMembersNotDistinctError(DomainError):
    rule = "ensure_distinct_agencies"


class AgencyAlreadyPairedError(DomainError):
    rule = "ensure_not_paired"


class TrioNotAllowedError(DomainError):
    rule = "ensure_trio_allowed"


class PairNotFoundError(DomainError):
    rule = "ensure_pair_exists"


class PairDissolvedError(DomainError):
    rule = "ensure_pair_active"


class PairHasPlanError(DomainError):
    rule = "ensure_pair_has_no_plan"


class PlanNotSubmittedError(DomainError):
    rule = "ensure_plan_submitted"


class PresentationInFutureError(DomainError):
    rule = "ensure_not_in_future"


# Free text


class PersonalDataInFreeTextError(DomainError):
    """A free-text field that is stored in clear (a title, a reason, a case number) holds what
    looks like personal data: an e-mail address, a phone number or a personal identity number.
    The message names the field and the kind, never the value."""

    rule = "ensure_no_personal_data_in_free_text"


# Forms


class FieldRefsNotDistinctError(DomainError):
    """Two of the programme's fields were mapped to one field of the form."""

    rule = "ensure_distinct_field_refs"


class DeliveryNotHeldError(DomainError):
    """A take-up named a delivery the form does not hold (never held, or taken up already)."""

    rule = "ensure_delivery_is_held"
