"""`template.yaml` declares the event store as the store needs it, and moto builds it so."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.template import TEMPLATE_PATH, dynamodb_tables, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEYS = [
    {"AttributeName": "stream_id", "KeyType": "HASH"},
    {"AttributeName": "version", "KeyType": "RANGE"},
]


def test_the_event_store_table_is_keyed_by_stream_and_version_and_streams_new_images() -> None:
    # GIVEN / WHEN the deployed template is read
    resource = load_template(TEMPLATE_PATH)["Resources"]["EventStoreTable"]
    props = resource["Properties"]
    # THEN the table has the store's keys, a stream of new images, and is kept safe
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert props["KeySchema"] == KEYS
    assert props["AttributeDefinitions"] == [
        {"AttributeName": "stream_id", "AttributeType": "S"},
        {"AttributeName": "version", "AttributeType": "N"},
    ]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_template_outputs_the_table_name_and_its_stream() -> None:
    outputs = load_template()["Outputs"]
    assert outputs["EventStoreTableName"]["Value"] == {"Ref": "EventStoreTable"}
    assert outputs["EventStoreStreamArn"]["Value"] == {
        "Fn::GetAtt": ["EventStoreTable", "StreamArn"]
    }


def test_the_table_moto_builds_from_the_template_has_the_keys_and_the_stream(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # WHEN the table built from the template is described
    table = dynamodb_client.describe_table(TableName=event_store_table)["Table"]
    # THEN it matches what deploys
    assert table["KeySchema"] == KEYS
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_short_form_intrinsics_are_read_as_their_long_form(tmp_path: Path) -> None:
    # GIVEN a template using the short forms, and a table with a name of its own
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Views:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      TableName: !Sub '${AWS::StackName}-views'\n"
        "      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n"
        "      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "  Named:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n"
        "      TableName: idempotency\n"
        "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
        "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "Outputs:\n"
        "  A: {Value: !Ref Views}\n"
        "  B: {Value: !GetAtt Views.Arn}\n"
        "  C: {Value: !Join ['-', [a, !Ref Views]]}\n"
        "  D: {Value: !If [IsProd, !Ref Views, !Ref AWS::NoValue]}\n",
        encoding="utf-8",
    )
    # WHEN it is loaded
    template = load_template(path)
    # THEN each short form is its long form, and a generated name falls back to the logical id
    values = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert values == {
        "A": {"Ref": "Views"},
        "B": {"Fn::GetAtt": ["Views", "Arn"]},
        "C": {"Fn::Join": ["-", ["a", {"Ref": "Views"}]]},
        "D": {"Fn::If": ["IsProd", {"Ref": "Views"}, {"Ref": "AWS::NoValue"}]},
    }
    names = {logical: table["TableName"] for logical, table in dynamodb_tables(template).items()}
    assert names == {"Views": "Views", "Named": "idempotency"}
