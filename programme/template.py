"""Reading `template.yaml`: the local stack and the tests build tables from what deploys.

Only what changes behaviour is carried over (keys, billing, streams, indexes, TTL); the
deployed-only settings (encryption, backups, retention) have no meaning in moto.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

if TYPE_CHECKING:  # the stubs are a development dependency only
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        CreateTableInputTypeDef,
        PointInTimeRecoverySpecificationTypeDef,
        SSESpecificationTypeDef,
    )

TEMPLATE_PATH: Final = Path(__file__).resolve().parent.parent / "template.yaml"
Template = dict[str, Any]


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that also reads the short-form intrinsics (!Ref, !Sub, !GetAtt, …)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in {"Ref", "Condition"} else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":  # !GetAtt Table.StreamArn is the long form's [Table, StreamArn]
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(
            None, None, f"unexpected !{suffix}", node.start_mark
        )
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    with path.open(encoding="utf-8") as stream:
        # A SafeLoader subclass: the extra constructors only build dicts for the intrinsics.
        template: Template = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506
    return template


def dynamodb_tables(template: Template) -> dict[str, CreateTableInputTypeDef]:
    """`create_table` arguments for each DynamoDB table in the template, by logical id."""
    return {
        logical_id: _create_table_input(logical_id, resource["Properties"])
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def create_tables(client: DynamoDBClient, template: Template) -> dict[str, str]:
    """Create the template's DynamoDB tables; returns each table's name by logical id."""
    names: dict[str, str] = {}
    for logical_id, table in dynamodb_tables(template).items():
        client.create_table(**table)
        props = template["Resources"][logical_id]["Properties"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(
                TableName=table["TableName"],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        recovery = props.get("PointInTimeRecoverySpecification")
        if recovery and recovery.get("PointInTimeRecoveryEnabled"):
            client.update_continuous_backups(
                TableName=table["TableName"],
                PointInTimeRecoverySpecification=_recovery(recovery),
            )
        names[logical_id] = table["TableName"]
    return names


def _create_table_input(logical_id: str, props: Mapping[str, Any]) -> CreateTableInputTypeDef:
    # A generated name (no TableName, or an intrinsic) becomes the logical id locally.
    name = props.get("TableName")
    table: CreateTableInputTypeDef = {
        "TableName": name if isinstance(name, str) else logical_id,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for optional in ("ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if optional in props:
            table[optional] = props[optional]
    if "StreamSpecification" in props:
        view = props["StreamSpecification"]["StreamViewType"]
        table["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    if "SSESpecification" in props:
        table["SSESpecification"] = _encryption(props["SSESpecification"])
    return table


def _encryption(spec: Mapping[str, Any]) -> SSESpecificationTypeDef:
    """CloudFormation's SSESpecification as the API takes it (`SSEEnabled` is `Enabled`). A key
    given by an intrinsic (a key of the stack) is left to moto, which makes its own."""
    encryption: SSESpecificationTypeDef = {"Enabled": bool(spec.get("SSEEnabled"))}
    if isinstance(spec.get("SSEType"), str):
        encryption["SSEType"] = spec["SSEType"]
    if isinstance(spec.get("KMSMasterKeyId"), str):
        encryption["KMSMasterKeyId"] = spec["KMSMasterKeyId"]
    return encryption


def _recovery(spec: Mapping[str, Any]) -> PointInTimeRecoverySpecificationTypeDef:
    recovery: PointInTimeRecoverySpecificationTypeDef = {"PointInTimeRecoveryEnabled": True}
    if isinstance(spec.get("RecoveryPeriodInDays"), int):
        recovery["RecoveryPeriodInDays"] = spec["RecoveryPeriodInDays"]
    return recovery
