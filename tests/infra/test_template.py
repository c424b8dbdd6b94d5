"""`template.yaml` declares the event store as the store needs it, and moto builds it so."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from programme.template import TEMPLATE_PATH, dynamodb_tables, load_template
from tests.support.iam import references as _references

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


def test_the_tables_moto_builds_are_encrypted_and_recoverable_as_the_template_says(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    resources = _resources()
    assert set(template_tables) == set(_of_type(resources, "AWS::DynamoDB::Table"))
    for logical_id, name in template_tables.items():
        props = resources[logical_id]["Properties"]
        # WHEN each local table is described
        table = dynamodb_client.describe_table(TableName=name)["Table"]
        backups = dynamodb_client.describe_continuous_backups(TableName=name)
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        # THEN it is encrypted at rest as the deployed table is
        encrypted = props.get("SSESpecification", {}).get("SSEEnabled", False)
        assert table.get("SSEDescription", {}).get("Status") == (
            "ENABLED" if encrypted else None
        ), logical_id
        # AND point-in-time recovery is on, for its period, exactly where the template says
        wanted = props.get("PointInTimeRecoverySpecification", {})
        on = wanted.get("PointInTimeRecoveryEnabled", False)
        assert recovery["PointInTimeRecoveryStatus"] == ("ENABLED" if on else "DISABLED")
        if "RecoveryPeriodInDays" in wanted:
            assert recovery["RecoveryPeriodInDays"] == wanted["RecoveryPeriodInDays"]


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


# ------------------------------------------------------------------------------------------
# Encryption at rest, recovery, least privilege: what `template.yaml` grants and protects.
# ------------------------------------------------------------------------------------------

Resources = dict[str, dict[str, Any]]

FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
# SAM policy templates in use, each scoped by SAM to the one resource it names.
SAM_POLICY_TEMPLATES = {"LambdaInvokePolicy", "StepFunctionsExecutionPolicy"}
# CloudWatch Logs delivery (Step Functions execution logs) takes these on "*" only.
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
READ_ONLY_DYNAMODB = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
STREAM_READ = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
APPEND_TO_STREAMS = {
    "dynamodb:GetItem",  # the tip: head and snapshot
    "dynamodb:Query",
    "dynamodb:PutItem",  # these three inside TransactWriteItems only (the test below)
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
}
TIP_ATTRIBUTES = ["stream_id", "version", "head", "snapshot", "snapshot_version", "snapshot_format"]

# The reviewed grants: for each function, the actions on each resource its code calls
# (template logical id, or the SSM parameters by their template parameter). Widening one is a
# change to this review as well.
REVIEWED_GRANTS: dict[str, dict[str, set[str]]] = {
    "IntakeFunction": {
        "EventStoreTable": APPEND_TO_STREAMS,
        "SubjectKeysTable": {"dynamodb:GetItem", "dynamodb:PutItem"},
        "PersonalDataKey": {"kms:GenerateDataKey", "kms:Decrypt"},
        "TypeformSecretParameter": {"ssm:GetParameter"},
        "FormsWebhookSecretParameter": {"ssm:GetParameter"},
    },
    "CommandsFunction": {
        "EventStoreTable": APPEND_TO_STREAMS,
        "IdempotencyTable": {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        # Reviewed: taking up a held delivery opens its sealed copy and seals its people.
        "SubjectKeysTable": {"dynamodb:GetItem", "dynamodb:PutItem"},
        "PersonalDataKey": {"kms:GenerateDataKey", "kms:Decrypt"},
        "ActorPseudonymKeyParameter": {"ssm:GetParameter"},
    },
    "QueriesFunction": {"ReadModelTable": {"dynamodb:GetItem", "dynamodb:Query"}},
    "ProjectorFunction": {
        # Reviewed: GetItem reads a stream's checkpoint revision, to reuse what it last read.
        "ReadModelTable": {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
        },
        "EventStoreTable": STREAM_READ,
        "ProjectorFailureQueue": {"sqs:SendMessage"},
    },
    "NextTransitionFunction": {"EventStoreTable": {"dynamodb:Query"}},
    "ApplyTransitionFunction": {"EventStoreTable": APPEND_TO_STREAMS},
    "HandOverFunction": {},
    "RecordFailureFunction": {},
    "LifecycleStarterFunction": {
        "EventStoreTable": STREAM_READ,
        "LifecycleFailureQueue": {"sqs:SendMessage"},
        # Reviewed: a RoundRescheduled or RoundCancelled in the stream replaces or ends the
        # round's execution at once (Waits are no longer capped at a day), so the starter
        # lists the state machine's executions to find the round's, and stops them: the
        # stop is on the lifecycle's executions only (its execution ARNs), nothing else.
        "RoundLifecycleStateMachine": {"states:ListExecutions", "states:StopExecution"},
    },
    "LifecycleReconcilerFunction": {
        "ReadModelTable": {"dynamodb:GetItem", "dynamodb:Query"},
        "RoundLifecycleStateMachine": {"states:ListExecutions", "states:StartExecution"},
    },
}


def _resources() -> Resources:
    resources: Resources = load_template()["Resources"]
    return resources


def _of_type(resources: Resources, kind: str) -> Resources:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_entries(resource: dict[str, Any]) -> list[Any]:
    return _as_list(resource.get("Properties", {}).get("Policies", []))


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline statements of a SAM function or state machine (not its policy templates)."""
    return [
        statement
        for entry in _policy_entries(resource)
        if isinstance(entry, dict) and "Statement" in entry
        for statement in _as_list(entry["Statement"])
    ]


def _policy_templates(resource: dict[str, Any]) -> set[str]:
    return {
        name
        for entry in _policy_entries(resource)
        if isinstance(entry, dict)
        for name in entry
        if name != "Statement"
    }


def _all_statements(resources: Resources) -> dict[str, list[dict[str, Any]]]:
    """Every IAM policy statement in the template, by the resource that carries it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] in {FUNCTION, STATE_MACHINE}:
            found[name] = _statements(resource)
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            found[name] = _as_list(props["PolicyDocument"]["Statement"])
        elif resource["Type"] == "AWS::IAM::Role":
            found[name] = [
                statement
                for policy in props.get("Policies", [])
                for statement in _as_list(policy["PolicyDocument"]["Statement"])
            ]
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    return set(_as_list(statement["Action"]))


def _granted(resource: dict[str, Any]) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for statement in _statements(resource):
        assert statement["Effect"] == "Allow"
        for target in _references(statement["Resource"]):
            granted.setdefault(target, set()).update(_actions(statement))
    return granted


def test_the_tables_of_record_are_encrypted_and_recoverable() -> None:
    # GIVEN the deployed template's tables
    tables = _of_type(_resources(), "AWS::DynamoDB::Table")
    # THEN every table is encrypted with KMS (SSEEnabled: the AWS managed key, or a CMK) ...
    for name, table in tables.items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, name
    # ... and the event store and the subject keys, which nothing can rebuild, are
    # recoverable and kept when the stack goes: the event store for 35 days, the keys for 7
    # (a restore could bring back a key an erasure overwrote: that window is bounded)
    recovery: dict[str, dict[str, int]] = {
        "EventStoreTable": {},
        "SubjectKeysTable": {"RecoveryPeriodInDays": 7},
    }
    for name, period in recovery.items():
        props = tables[name]["Properties"]
        expected = {"PointInTimeRecoveryEnabled": True, **period}
        assert props["PointInTimeRecoverySpecification"] == expected
        assert (tables[name]["DeletionPolicy"], tables[name]["UpdateReplacePolicy"]) == (
            "Retain",
            "Retain",
        )


def test_every_queue_and_topic_is_encrypted_at_rest() -> None:
    resources = _resources()
    # THEN every queue is encrypted, by SQS-managed keys or a KMS key
    queues = _of_type(resources, "AWS::SQS::Queue")
    assert queues
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
    # AND every topic under a key of this template that CloudWatch alarms may use (they
    # cannot publish to a topic under the AWS managed alias/aws/sns)
    topics = _of_type(resources, "AWS::SNS::Topic")
    assert topics
    for name, topic in topics.items():
        key_ref = topic["Properties"]["KmsMasterKeyId"]
        (key_name,) = _references(key_ref)
        key = resources[key_name]
        assert key["Type"] == "AWS::KMS::Key", name
        assert key["Properties"]["EnableKeyRotation"] is True
        alarms = [
            s
            for s in key["Properties"]["KeyPolicy"]["Statement"]
            if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        ]
        assert [set(_as_list(s["Action"])) for s in alarms] == [
            {"kms:Decrypt", "kms:GenerateDataKey*"}
        ]
        assert alarms[0]["Condition"]["StringEquals"] == {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
        }


def test_no_queue_is_left_for_sam_to_generate() -> None:
    # GIVEN the schedules (SAM would create an unconfigured queue for `DeadLetterConfig: Type`)
    functions = _of_type(_resources(), FUNCTION)
    schedules = [
        event["Properties"]
        for function in functions.values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "ScheduleV2"
    ]
    assert schedules
    # THEN each dead-letters into a queue of this template, encrypted and alarmed
    for schedule in schedules:
        assert schedule["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": ["LifecycleFailureQueue", "Arn"]}
        }


def test_no_iam_statement_grants_a_wildcard_action() -> None:
    resources = _resources()
    statements = _all_statements(resources)
    assert statements
    for owner, found in statements.items():
        for statement in found:
            actions = _actions(statement)
            # THEN no action is "*", a whole service ("dynamodb:*", "kms:*", ...) or a pattern
            assert not {a for a in actions if "*" in a}, (owner, statement.get("Sid"))
            # AND "*" as the resource only where the service knows no other (log delivery)
            if statement["Resource"] == "*":
                assert actions <= LOG_DELIVERY_ACTIONS, (owner, statement.get("Sid"))
    # AND the SAM policy templates in use are the ones SAM scopes to a single resource
    for name, resource in {
        **_of_type(resources, FUNCTION),
        **_of_type(resources, STATE_MACHINE),
    }.items():
        assert _policy_templates(resource) <= SAM_POLICY_TEMPLATES, name


def test_only_the_account_root_administers_a_kms_key() -> None:
    # GIVEN the template's KMS keys
    keys = _of_type(_resources(), "AWS::KMS::Key")
    assert set(keys) == {"PersonalDataKey", "AlarmTopicKey"}
    for name, key in keys.items():
        # THEN "kms:*" goes to the account root alone (the default key policy: IAM decides)
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            if "kms:*" in _as_list(statement["Action"]):
                assert statement["Principal"] == {
                    "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
                }, name
            else:
                assert "AWS" not in statement["Principal"], name


def test_each_function_is_granted_only_what_its_code_calls() -> None:
    functions = _of_type(_resources(), FUNCTION)
    # THEN every function's inline grants are exactly the reviewed ones
    assert set(functions) == set(REVIEWED_GRANTS)
    for name, function in functions.items():
        assert _granted(function) == REVIEWED_GRANTS[name], name
    # AND starting executions goes through SAM's template, on the lifecycle state machine only
    for name in ("HandOverFunction", "LifecycleStarterFunction"):
        (policy,) = [p for p in _policy_entries(functions[name]) if "Statement" not in p]
        assert list(policy) == ["StepFunctionsExecutionPolicy"]
    # AND the starter may stop the lifecycle's executions, and no other state machine's
    starter = _statements(functions["LifecycleStarterFunction"])
    (stop,) = [s for s in starter if "states:StopExecution" in _actions(s)]
    assert _actions(stop) == {"states:StopExecution"}
    assert stop["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
        "${RoundLifecycleStateMachine.Name}:*"
    }


def test_intake_cannot_read_the_read_model_table() -> None:
    intake = _resources()["IntakeFunction"]
    # THEN nothing it is granted is on the read models, nor on every resource
    granted = _granted(intake)
    assert "ReadModelTable" not in granted
    assert all(statement["Resource"] != "*" for statement in _statements(intake))
    assert not _policy_templates(intake)
    # AND it is not even told the table's name
    assert "READ_MODEL_TABLE" not in intake["Properties"]["Environment"]["Variables"]


def test_queries_cannot_write_anything() -> None:
    queries = _resources()["QueriesFunction"]
    # THEN every action it is granted reads, and only the read models
    granted = _granted(queries)
    assert set(granted) == {"ReadModelTable"}
    assert granted["ReadModelTable"] <= READ_ONLY_DYNAMODB
    assert not _policy_templates(queries)


def test_the_event_store_is_written_only_inside_transactions_and_never_deleted_from() -> None:
    resources = _resources()
    for name, function in _of_type(resources, FUNCTION).items():
        on_store = [
            s for s in _statements(function) if "EventStoreTable" in _references(s["Resource"])
        ]
        for statement in on_store:
            writes = _actions(statement) - READ_ONLY_DYNAMODB - STREAM_READ
            # THEN no function may delete an event, or write outside a transaction
            assert "dynamodb:DeleteItem" not in writes, name
            if not writes:
                continue
            condition = statement["Condition"]
            assert condition["StringEquals"] == {
                "dynamodb:EnclosingOperation": "TransactWriteItems"
            }, (name, statement["Sid"])
            # AND an update may touch only the tip's attributes, never an event's
            if "dynamodb:UpdateItem" in writes:
                assert writes == {"dynamodb:UpdateItem"}, (name, statement["Sid"])
                assert condition["ForAllValues:StringEquals"] == {
                    "dynamodb:Attributes": TIP_ATTRIBUTES
                }
            else:
                assert set(condition) == {"StringEquals"}, (name, statement["Sid"])


def test_subject_keys_are_minted_with_a_wrapped_key_and_erased_only_by_commands() -> None:
    resources = _resources()

    def puts(function: str) -> list[dict[str, Any]]:
        return [
            s
            for s in _statements(resources[function])
            if "dynamodb:PutItem" in _actions(s)
            and "SubjectKeysTable" in _references(s["Resource"])
        ]

    wrapped = {
        "ForAllValues:StringEquals": {
            "dynamodb:Attributes": ["subject_id", "wrapped_key", "created_at"]
        }
    }
    tombstone = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["subject_id", "erased_at"]}}
    # THEN intake writes wrapped keys and nothing else; commands tombstones, and wrapped keys
    # for the people of a held delivery it takes up
    assert [s["Condition"] for s in puts("IntakeFunction")] == [wrapped]
    assert sorted(map(str, (s["Condition"] for s in puts("CommandsFunction")))) == sorted(
        map(str, [tombstone, wrapped])
    )
    # AND no function deletes a key: erasure leaves a tombstone that says when
    for name, function in _of_type(resources, FUNCTION).items():
        granted = _granted(function).get("SubjectKeysTable", set())
        assert not granted & {"dynamodb:DeleteItem", "dynamodb:UpdateItem"}, name
    # AND the personal-data key serves only data keys bound to a subject
    for name in ("IntakeFunction", "CommandsFunction"):
        (seal,) = [
            s
            for s in _statements(resources[name])
            if "PersonalDataKey" in _references(s["Resource"])
        ]
        assert seal["Condition"] == {"StringLike": {"kms:EncryptionContext:subject": "subj-*"}}


def test_the_public_intake_function_has_a_concurrency_cap() -> None:
    template = load_template()
    intake = template["Resources"]["IntakeFunction"]["Properties"]
    # THEN anyone-can-call intake cannot take the account's concurrency from the rest
    assert intake["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "ReserveIntakeConcurrency",
            {"Ref": "IntakeReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert template["Parameters"]["IntakeReservedConcurrency"]["Default"] == 10


def test_every_checkov_skip_gives_its_reason() -> None:
    # GIVEN the findings skipped in place (`make check-template` runs checkov)
    skips = {
        (name, skip["id"]): skip.get("comment", "")
        for name, resource in _resources().items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    assert skips
    # THEN each names a check and says why it does not apply here
    for (name, check), comment in skips.items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), name
        assert len(comment) >= 60, (name, check)


def test_tracing_is_a_deploy_choice_and_off_by_default() -> None:
    # X-Ray costs cold-start time and money per trace; the stack turns it on when asked to,
    # and Powertools is told the same, so it never imports the X-Ray SDK when it is off.
    template = load_template()
    parameter = template["Parameters"]["Tracing"]
    assert (parameter["Default"], parameter["AllowedValues"]) == (
        "PassThrough",
        ["Active", "PassThrough"],
    )
    function = template["Globals"]["Function"]
    assert function["Tracing"] == {"Ref": "Tracing"}
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["Traced", "false", "true"]
    }
