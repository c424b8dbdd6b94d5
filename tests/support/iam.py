"""The template's IAM grants, evaluated against the AWS calls a function's code really makes.

`requests_of` turns one recorded botocore call into the IAM requests AWS authorises for it (a
`TransactWriteItems` is one request per action in it, each carrying
`dynamodb:EnclosingOperation`; a `PutItem` carries `dynamodb:Attributes`, a KMS call its
encryption context). `denial` evaluates a request against a function's statements as IAM does
for the parts the template uses: Action, Resource (by the logical id it refers to) and the
condition operators below. An operator or a SAM policy template this module does not know
fails loudly, so a grant it cannot read is never taken as allowing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Resources = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Request:
    """One IAM authorisation: an action on a resource (its logical id), with its context."""

    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)

    def describe(self) -> str:
        context = ", ".join(f"{k}={v}" for k, v in sorted(self.context.items()))
        return f"{self.action} on {self.resource}" + (f" ({context})" if context else "")


@dataclass(frozen=True)
class Names:
    """The local stack's physical names, by the template's logical ids."""

    tables: Mapping[str, str]
    key_id: str
    state_machine_arn: str
    queues: Mapping[str, str]

    def table(self, name: str) -> str:
        for logical, physical in self.tables.items():
            if physical == name or name.endswith(f":table/{physical}"):
                return logical
        raise AssertionError(f"a call names table {name!r}, which the template does not declare")


_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def _update_attributes(action: Mapping[str, Any]) -> tuple[str, ...]:
    """The attributes an update expression sets or removes, with the item's key."""
    names: Mapping[str, str] = action.get("ExpressionAttributeNames", {})
    expression: str = action.get("UpdateExpression", "")
    found = set(action.get("Key", {}))
    for clause in re.split(r"\b(?:SET|REMOVE|ADD|DELETE)\b", expression):
        for assignment in clause.split(","):
            target = assignment.split("=")[0].strip().split(" ")[0]
            if target:
                found.add(names.get(target, target))
    return tuple(sorted(found))


def _dynamodb_item_request(
    operation: str, action: Mapping[str, Any], names: Names, enclosing: str | None
) -> Request:
    context: dict[str, str | tuple[str, ...]] = {}
    if enclosing is not None:
        context["dynamodb:EnclosingOperation"] = enclosing
    iam_action = f"dynamodb:{operation}"
    if operation == "PutItem":
        context["dynamodb:Attributes"] = tuple(sorted(action["Item"]))
    elif operation == "UpdateItem":
        context["dynamodb:Attributes"] = _update_attributes(action)
    return Request(iam_action, names.table(action["TableName"]), context)


def requests_of(
    service: str, operation: str, params: Mapping[str, Any], names: Names
) -> Iterator[Request]:
    """The IAM requests one API call makes."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, action),) = item.items()
                operation_of = _ITEM_ACTIONS[kind].removeprefix("dynamodb:")
                yield _dynamodb_item_request(operation_of, action, names, "TransactWriteItems")
        elif operation == "TransactGetItems":
            for item in params["TransactItems"]:
                yield _dynamodb_item_request("GetItem", item["Get"], names, "TransactGetItems")
        elif operation in {"BatchWriteItem", "BatchGetItem"}:
            for table, entries in params["RequestItems"].items():
                if operation == "BatchGetItem":
                    yield Request("dynamodb:BatchGetItem", names.table(table))
                    continue
                for entry in entries:
                    kind = "PutItem" if "PutRequest" in entry else "DeleteItem"
                    yield Request(f"dynamodb:{kind}", names.table(table))
        else:
            yield _dynamodb_item_request(operation, params, names, None)
    elif service == "kms":
        if params.get("KeyId") not in {names.key_id, f"alias/{names.key_id}", None}:
            raise AssertionError(f"a KMS call names key {params.get('KeyId')!r}")
        subject = params.get("EncryptionContext", {}).get("subject")
        context = {} if subject is None else {"kms:EncryptionContext:subject": subject}
        yield Request(f"kms:{operation}", "PersonalDataKey", context)
    elif service == "stepfunctions":
        arn = params.get("stateMachineArn") or params.get("executionArn", "")
        machine = names.state_machine_arn.split(":")[-1]
        if machine not in arn:
            raise AssertionError(f"a Step Functions call names {arn!r}")
        yield Request(f"states:{operation}", "RoundLifecycleStateMachine")
    elif service == "sqs":
        url = params["QueueUrl"]
        (logical,) = [name for name, queue in names.queues.items() if queue == url]
        yield Request(f"sqs:{operation}", logical)
    else:
        raise AssertionError(f"a call to {service}.{operation} that this evaluator cannot map")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def references(value: Any) -> set[str]:
    """The logical ids a value refers to (Ref, GetAtt, ${...} in Sub)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found = re.findall(r"\$\{([^}!]+)\}", text)
            return {name.split(".")[0] for name in found if not name.startswith("AWS::")}
        return {ref for item in value.values() for ref in references(item)}
    if isinstance(value, list):
        return {ref for item in value for ref in references(item)}
    return set()


def _state_machines_named(name: Any, resources: Resources) -> set[str]:
    """The state machines a policy template's `StateMachineName` names: by reference, or by
    the same `Name` expression (a function the machine invokes cannot refer to it)."""
    named = {
        logical
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
        and resource["Properties"].get("Name") == name
    }
    return named | references(name)


def statements(function: Mapping[str, Any], resources: Resources) -> list[dict[str, Any]]:
    """A SAM function's statements, its policy templates spelt out as the ones SAM expands."""
    found: list[dict[str, Any]] = []
    for entry in _as_list(function.get("Properties", {}).get("Policies", [])):
        if not isinstance(entry, dict):
            raise AssertionError(f"a managed policy by name ({entry!r}) cannot be evaluated")
        for name, value in entry.items():
            if name == "Statement":
                found.extend(_as_list(value))
            elif name == "StepFunctionsExecutionPolicy":
                found.append(
                    {
                        "Effect": "Allow",
                        "Action": "states:StartExecution",
                        "Resource": _state_machines_named(value["StateMachineName"], resources),
                    }
                )
            else:
                raise AssertionError(f"policy template {name} is not known to this evaluator")
    return found


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], request: Request) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            allowed = [str(value) for value in _as_list(wanted)]
            value = request.context.get(key)
            if operator == "ForAllValues:StringEquals":
                values = _as_list(list(value) if isinstance(value, tuple) else value or [])
                if not all(v in allowed for v in values):
                    return False
            elif operator == "StringEquals":
                if not isinstance(value, str) or value not in allowed:
                    return False
            elif operator == "StringLike":
                if not isinstance(value, str) or not any(
                    fnmatch.fnmatchcase(value, pattern) for pattern in allowed
                ):
                    return False
            else:
                raise AssertionError(
                    f"condition operator {operator} is not known to this evaluator"
                )
    return True


def allows(statement: Mapping[str, Any], request: Request) -> bool:
    if statement["Effect"] != "Allow":
        raise AssertionError("the template's function policies only allow; a Deny is not read here")
    actions = _as_list(statement["Action"])
    if not any(fnmatch.fnmatchcase(request.action, action) for action in actions):
        return False
    resource = statement["Resource"]
    targets = resource if isinstance(resource, set) else references(resource)
    if resource != "*" and request.resource not in targets:
        return False
    return _condition_holds(statement.get("Condition", {}), request)


def denied(function: str, resources: Resources, request: Request) -> bool:
    """Whether no statement of `function` (a logical id) allows `request`."""
    granted = statements(resources[function], resources)
    return not any(allows(statement, request) for statement in granted)
