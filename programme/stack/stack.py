"""`LocalStack`: the whole system on one machine, over moto in server mode.

    with LocalStack(port=8080, clock=wall_clock) as info:   # or .start() / .stop()
        print(info.api_url)

Starting it: moto's server on a free loopback port (DynamoDB one request at a time); the
handlers' environment pointed at it; the template's tables, a KMS key for personal data, the
template's SQS queues (the on-failure destinations); the round-lifecycle state machine from
its ASL file through the Step Functions API, with execution on and its Lambda tasks run by the
real handlers; then the threads that stand in for AWS: the HTTP API (API Gateway), the stream
pump (the event source mappings) and the scheduler (EventBridge Scheduler).

Stopping it undoes all of that, in reverse, and returns the names of any thread it started
that is still alive (none, when it stopped cleanly): every execution is stopped, every client
closed, moto reset and stopped, the environment and moto's configuration put back.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import boto3
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from functions.commands import idempotency
from functions.common import bootstrap
from infra.clock import Clock, wall_clock
from programme.stack.data_dir import DataDir
from programme.stack.destinations import FailureQueues
from programme.stack.environment import (
    QUIET_POWERTOOLS,
    REGION,
    UNSET,
    ProcessEnvironment,
    WebhookSecrets,
    aws_environment,
    template_environment,
    webhook_secrets,
)
from programme.stack.functions import INVOCATION_LOCK, LocalFunction, template_functions
from programme.stack.http_front import LocalHttpApi, LocalHttpServer
from programme.stack.journal import journal_dynamodb_writes, replay
from programme.stack.lambdas import LocalLambdas, install, uninstall
from programme.stack.lifecycle import (
    LIFECYCLE_FUNCTIONS,
    configure_moto_server,
    create_round_lifecycle,
)
from programme.stack.local_kms import keep_kms_key
from programme.stack.moto_dynamodb import serialise_moto_dynamodb
from programme.stack.moto_in_process import dispatch_in_process
from programme.stack.routes import http_routes
from programme.stack.scheduler import DailyJob, SchedulerThread, scheduled_jobs
from programme.stack.streams import Consumer, PumpThread, StreamPump, stream_mappings
from programme.template import Template, create_tables, load_template

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient


HOST: Final = "127.0.0.1"
EVENT_STORE: Final = "EventStoreTable"
PERSONAL_DATA_KEY: Final = "PersonalDataKey"
STATE_MACHINE: Final = "RoundLifecycleStateMachine"
THREAD_GRACE_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class StackInfo:
    """Where everything is."""

    api_url: str
    moto_url: str
    region: str
    tables: dict[str, str]  # table name by logical id
    personal_data_key_id: str
    queues: dict[str, str]  # queue URL by logical id
    state_machine_arn: str
    stream_arn: str
    secrets: WebhookSecrets
    jobs: tuple[DailyJob, ...] = ()
    data_dir: str | None = None
    """Where what it acknowledged is kept (`--data`); None: in memory, gone at the stop."""
    restored: int = 0
    """DynamoDB writes replayed from the data folder's journal at the start."""


@dataclass
class _Running:
    """What `start` brought up, for `stop` to take down."""

    environment: ProcessEnvironment = field(default_factory=ProcessEnvironment)
    undo: list[Callable[[], None]] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)
    moto_url: str = ""
    http: LocalHttpServer | None = None
    http_thread: threading.Thread | None = None
    pump: PumpThread | None = None
    scheduler: SchedulerThread | None = None
    sfn: SFNClient | None = None
    state_machine_arn: str = ""


class LocalStack:
    """The system on moto in this process: one at a time per process (moto's state is global)."""

    def __init__(
        self,
        *,
        port: int = 8080,
        clock: Clock = wall_clock,
        secrets: WebhookSecrets | None = None,
        template: Template | None = None,
        pump_interval: float = 0.2,
        loading: str | None = None,
        data: DataDir | None = None,
        on_restore: Callable[[int, int], None] | None = None,
    ) -> None:
        """`loading`: what `/ready` waits for after the start (the demo, say) until `ready()`.
        `data`: the folder that keeps what was acknowledged (`data_dir`), restored at the start
        (`on_restore(done, total)` reports the replay's progress)."""
        self.data = data
        self.on_restore = on_restore
        self.port = port
        self.loading = loading
        self.clock = clock
        self.secrets = secrets or webhook_secrets()
        self.template = template or load_template()
        self.pump_interval = pump_interval
        self.info: StackInfo | None = None
        self.functions: dict[str, LocalFunction] = {}
        self._running: _Running | None = None
        self._threads_before: set[threading.Thread] = set()

    def __enter__(self) -> StackInfo:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # Starting

    def start(self) -> StackInfo:
        if self._running is not None:
            raise RuntimeError("the local stack is already running")
        self._threads_before = set(threading.enumerate())
        running = self._running = _Running()
        try:
            self.info = self._start(running)
        except BaseException:
            self.stop()
            raise
        return self.info

    def _start(self, running: _Running) -> StackInfo:
        # The port first: when it is taken, fail before anything else starts.
        running.http = LocalHttpServer((HOST, self.port))
        journal = None
        if self.data is not None:  # journaled under the lock, so installed before it
            journal = self.data.journal()
            running.undo.append(journal.close)
            running.undo.append(journal_dynamodb_writes(journal))
        running.undo.append(serialise_moto_dynamodb())
        moto_url = self._start_moto(running)
        running.environment.unset(UNSET)
        running.environment.set(
            {
                **aws_environment(moto_url),
                **_no_proxy_for(HOST),
                **QUIET_POWERTOOLS,
                **self.secrets.handler_environment(),
            }
        )

        session = boto3.session.Session(region_name=REGION)
        dynamodb = self._client(running, session.client("dynamodb"))
        tables = create_tables(dynamodb, self.template)
        stream_arn = dynamodb.describe_table(TableName=tables[EVENT_STORE])["Table"][
            "LatestStreamArn"
        ]
        restored = 0
        if journal is not None:
            restored = replay(journal, moto_url, REGION, self.on_restore or _quietly)
        kms = self._client(running, session.client("kms"))
        key_id = kms.create_key(Description="Wraps each data subject's own data key (local)")[
            "KeyMetadata"
        ]["KeyId"]
        if self.data is not None:
            key_id = keep_kms_key(self.data, key_id)
        sqs: SQSClient = self._client(running, session.client("sqs"))
        queues = {
            logical_id: sqs.create_queue(QueueName=logical_id)["QueueUrl"]
            for logical_id, resource in self.template.get("Resources", {}).items()
            if resource.get("Type") == "AWS::SQS::Queue"
        }
        sfn: SFNClient = self._client(running, session.client("stepfunctions"))
        state_machine_arn = create_round_lifecycle(sfn)
        running.sfn, running.state_machine_arn = sfn, state_machine_arn
        resources = {**tables, PERSONAL_DATA_KEY: key_id, STATE_MACHINE: state_machine_arn}
        running.environment.set(
            {**template_environment(self.template, resources), **QUIET_POWERTOOLS}
        )

        self._use_fresh_adapters()
        self.functions = template_functions(self.template)
        for function in self.functions.values():  # imported now, not on a first request
            function.load()
        install(LocalLambdas({name: self.functions[name] for name in LIFECYCLE_FUNCTIONS}))
        running.undo.append(uninstall)

        send_to = FailureQueues(sqs, queues)
        self._start_pump(running, session, stream_arn, send_to)
        jobs = scheduled_jobs(self.template)
        running.scheduler = SchedulerThread(
            jobs, self.functions, self.clock, send_to.job_failed, poll=0.5
        )
        running.scheduler.start()
        api_url = self._start_http(running)
        return StackInfo(
            api_url=api_url,
            moto_url=moto_url,
            region=REGION,
            tables=tables,
            personal_data_key_id=key_id,
            queues=queues,
            state_machine_arn=state_machine_arn,
            stream_arn=stream_arn,
            secrets=self.secrets,
            jobs=tuple(jobs),
            data_dir=None if self.data is None else str(self.data.path),
            restored=restored,
        )

    def _start_moto(self, running: _Running) -> str:
        before = default_user_config.get("stepfunctions")
        moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        moto.start()
        url = running.moto_url = f"http://{HOST}:{moto.get_host_and_port()[1]}"

        def stop_moto() -> None:
            _reset_moto(url)  # its state is this process's: leave none behind
            moto.stop()

        running.undo.append(stop_moto)

        def restore_config() -> None:  # the server's config is this process's too
            if before is None:
                default_user_config.pop("stepfunctions", None)
            else:
                default_user_config["stepfunctions"] = before

        running.undo.append(restore_config)
        configure_moto_server(running.moto_url)
        running.undo.append(dispatch_in_process(url))  # this process's calls skip the HTTP
        return running.moto_url

    def _use_fresh_adapters(self) -> None:
        """The composition root builds its clients anew, from this environment and clock."""
        bootstrap.reset()
        idempotency.reset()
        if self.clock is not wall_clock:
            bootstrap.set_clock(self.clock)

    def _start_pump(
        self,
        running: _Running,
        session: boto3.session.Session,
        stream_arn: str,
        send_to: FailureQueues,
    ) -> None:
        streams = self._client(running, session.client("dynamodbstreams"))
        consumers = [
            Consumer.of(mapping, self.functions[mapping.function])
            for mapping in stream_mappings(self.template, EVENT_STORE)
        ]
        pump = StreamPump(streams, stream_arn, consumers, send_to.records_failed)
        running.pump = PumpThread(pump, interval=self.pump_interval)
        running.pump.start()

    def _start_http(self, running: _Running) -> str:
        http = running.http
        if http is None:  # bound first thing in `_start`
            raise RuntimeError("the HTTP port was not bound before the API was started")
        http.api = LocalHttpApi(http_routes(self.template), self.functions)
        http.loading = self.loading
        running.http_thread = threading.Thread(
            target=http.serve_forever, name="http-api", kwargs={"poll_interval": 0.2}
        )
        running.http_thread.start()
        return http.url

    def ready(self) -> None:
        """What the stack was started `loading` is loaded: `/ready` answers 200."""
        if self._running is not None and self._running.http is not None:
            self._running.http.ready()

    def _client(self, running: _Running, client: Any) -> Any:
        running.clients.append(client)
        return client

    # Stopping

    def stop(self) -> list[str]:
        """Take everything down; returns the names of threads it started that are still alive."""
        running, self._running = self._running, None
        if running is None:
            return []
        if running.http_thread is not None and running.http is not None:
            running.http.shutdown()
            running.http_thread.join(timeout=THREAD_GRACE_SECONDS)
        if running.http is not None:
            running.http.server_close()
        if running.scheduler is not None:
            running.scheduler.stop()
        if running.pump is not None:
            running.pump.stop()
        if running.sfn is not None:
            _stop_executions(running.sfn, running.state_machine_arn)
        with INVOCATION_LOCK:  # a task in flight finishes before its function goes away
            pass
        for client in running.clients:  # their kept-alive connections hold moto's threads
            client.close()
        _close_cached_clients()
        bootstrap.reset()
        idempotency.reset()
        for undo in reversed(running.undo):
            undo()
        running.environment.restore()
        return self._lingering_threads()

    def _lingering_threads(self) -> list[str]:
        deadline = time.monotonic() + THREAD_GRACE_SECONDS
        while True:
            started = [
                thread
                for thread in threading.enumerate()
                if thread not in self._threads_before and thread.is_alive()
            ]
            if not started or time.monotonic() > deadline:
                return sorted(thread.name for thread in started)
            time.sleep(0.05)


def _quietly(done: int, total: int) -> None:
    pass


def _stop_executions(sfn: SFNClient, state_machine_arn: str) -> None:
    """Stop every running execution, again while a hand-over in flight starts another."""
    stopped: set[str] = set()
    for _ in range(20):
        listed = sfn.list_executions(stateMachineArn=state_machine_arn, statusFilter="RUNNING")
        running = {item["executionArn"] for item in listed["executions"]} - stopped
        if not running:
            return
        for arn in running:
            _stop_execution(sfn, arn)
        stopped |= running
        with INVOCATION_LOCK:  # a hand-over in flight has started its successor by now
            pass


def _stop_execution(sfn: SFNClient, arn: str) -> None:
    # moto cannot stop an execution whose thread has not begun yet: wait until it has
    deadline = time.monotonic() + 5
    while not sfn.get_execution_history(executionArn=arn)["events"]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    sfn.stop_execution(executionArn=arn, cause="the local stack stopped")


def _close_cached_clients() -> None:
    """Close the composition root's clients, those it built (a factory is not called anew)."""
    for factory in (
        bootstrap.dynamodb_client,
        bootstrap.kms_client,
        bootstrap.stepfunctions_client,
    ):
        if factory.cache_info().currsize:
            factory().close()


def _no_proxy_for(host: str) -> dict[str, str]:
    """A proxy in the environment must not see loopback traffic (boto3 and urllib honour it)."""
    given = [h for h in os.environ.get("NO_PROXY", os.environ.get("no_proxy", "")).split(",") if h]
    hosts = ",".join(dict.fromkeys([*given, host, "localhost"]))
    return {"NO_PROXY": hosts, "no_proxy": hosts}


def _reset_moto(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
