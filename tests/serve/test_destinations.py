"""What the stack gives up on lands in the template's on-failure queue, in Lambda's shape."""

from __future__ import annotations

import json

import boto3

from programme.stack.destinations import FailureQueues
from programme.stack.scheduler import DailyJob
from programme.stack.streams import Consumer
from tests.support.aws import REGION


def test_a_record_and_a_run_given_up_on_are_sent_to_their_queues(mocked_aws: None) -> None:
    # GIVEN the two on-failure queues
    sqs = boto3.client("sqs", region_name=REGION)
    queues = {
        name: sqs.create_queue(QueueName=name)["QueueUrl"]
        for name in ("ProjectorFailureQueue", "LifecycleFailureQueue")
    }
    destinations = FailureQueues(sqs, queues)

    # WHEN the projector gives up on a record and the reconciler on a run
    consumer = Consumer("ProjectorFunction", lambda e, c: {}, on_failure="ProjectorFailureQueue")
    record = {"dynamodb": {"SequenceNumber": "42"}, "eventSourceARN": "arn:stream"}
    destinations.records_failed(consumer, [record])
    job = DailyJob("LifecycleReconcilerFunction", 15, 3, "UTC", on_failure="LifecycleFailureQueue")
    destinations.job_failed(job, RuntimeError("no executions"))

    # THEN each queue holds what Lambda would have sent it
    def received(queue: str) -> dict[str, object]:
        (message,) = sqs.receive_message(QueueUrl=queues[queue])["Messages"]
        body: dict[str, object] = json.loads(message["Body"])
        return body

    batch = received("ProjectorFailureQueue")["DDBStreamBatchInfo"]
    assert batch == {
        "startSequenceNumber": "42",
        "endSequenceNumber": "42",
        "batchSize": 1,
        "streamArn": "arn:stream",
    }
    run = received("LifecycleFailureQueue")
    assert run["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": "no executions"}
