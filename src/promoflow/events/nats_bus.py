"""NATS JetStream as the event bus (scaled mode).

One stream (`PROMOFLOW_EVENTS`, file storage) holds `promoflow.events.>`; an event
of type `io.promoflow.a.b` travels on `promoflow.events.a.b` as a structured-mode
CloudEvent. Publishing carries `Nats-Msg-Id` = the CloudEvent id, so a relay that
crashed after publishing and before marking re-publishes into JetStream's duplicate
window and the stream keeps one copy; the relay marks an event relayed only after
JetStream acknowledged it.

Every consumer is a durable pull consumer named after it, filtered on its event
type's subject. A message is acked after the consumer's transaction committed
(`events.consumers.consume`); a failure is nak'ed with a growing delay, and on the
`max_attempts`-th delivery the event becomes a dead letter and is acked, so it is
kept, never silently dropped. A message that is not a CloudEvent is quarantined.

nats-py is asyncio; the rest of promoflow is threads. The bus runs its own event
loop in a daemon thread and the relay hands it batches from its thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType
from nats.js.errors import NotFoundError

from promoflow.events.cloudevents import SUBJECT_PREFIX, decode, encode, subject_for
from promoflow.events.consumers import CloudEvent, Consumer, Dispatcher
from promoflow.integration.deadletters import quarantine
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)
DUPLICATE_WINDOW_SECONDS = 120.0


def durable_name(consumer: Consumer) -> str:
    """NATS consumer names allow no dots."""
    return consumer.name.replace(".", "_")


class NatsUnavailable(RuntimeError):
    """The NATS server could not be reached or JetStream is not enabled on it."""


class NatsBus:
    """Relays to, and consumes from, a JetStream stream."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        url: str,
        stream: str = "PROMOFLOW_EVENTS",
        *,
        ack_wait_seconds: float = 30.0,
        publish_timeout_seconds: float = 5.0,
        retry_delay_seconds: float = 0.5,
        fetch_batch: int = 200,
        subject_prefix: str = SUBJECT_PREFIX,
    ) -> None:
        self.dispatcher = dispatcher
        self.url = url
        self.stream = stream
        self._ack_wait = ack_wait_seconds
        self._publish_timeout = publish_timeout_seconds
        self._retry_delay = retry_delay_seconds
        self._fetch_batch = fetch_batch
        self._prefix = subject_prefix  # one stream per prefix: streams may not overlap
        self._consumers: list[Consumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus", daemon=True)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._stopping = False

    # -- the thread boundary -------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def subscribe(self, consumer: Consumer) -> None:
        self.dispatcher.add(consumer)
        self._consumers.append(consumer)
        if self._js is not None:
            self._run(self._start_consumer(consumer), timeout=10)

    def start(self) -> None:
        """Connect, make sure the stream exists, start every subscribed consumer."""
        self._thread.start()
        try:
            self._run(self._connect(), timeout=15)
        except Exception as error:
            self._stop_loop()
            raise NatsUnavailable(
                f"NATS JetStream at {self.url} is not reachable ({type(error).__name__}: "
                f"{error}); start nats-server with -js, or set PROMOFLOW_EVENT_BUS=inprocess"
            ) from error
        for consumer in self._consumers:
            self._run(self._start_consumer(consumer), timeout=10)

    def publish_batch(self, events: list[CloudEvent]) -> list[str]:
        timeout = self._publish_timeout + 5 + len(events) / 1000
        return self._run(self._publish(events), timeout=timeout)

    def check(self, timeout: int = 1) -> None:
        """Raise NatsUnavailable unless the server answers a round trip within `timeout`.

        The client reconnects on its own; until it has, the bus is not ready.
        """
        client = self._nc
        if client is None or not client.is_connected:
            raise NatsUnavailable(f"not connected to NATS at {self.url}")
        try:
            self._run(client.flush(timeout=timeout), timeout=timeout + 1)
        except Exception as error:
            raise NatsUnavailable(
                f"NATS at {self.url} did not answer within {timeout} s ({type(error).__name__})"
            ) from error

    def stream_messages(self) -> int:
        """How many messages the stream holds (JetStream kept one per event id)."""

        async def count() -> int:
            info = await self._require_js().stream_info(self.stream)
            return int(info.state.messages)

        return self._run(count(), timeout=10)

    def delete_stream(self) -> None:
        """Remove the stream and its consumers (tests and benchmarks clean up)."""
        self._run(self._require_js().delete_stream(self.stream), timeout=10)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._stopping = True
        try:
            self._run(self._disconnect(), timeout=10)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # -- inside the loop -----------------------------------------------------

    async def _connect(self) -> None:
        async def quiet(error: Exception) -> None:
            if not self._stopping:
                log.warning("nats_error", url=self.url, error=str(error))

        # Reconnect forever once connected (a restarting server comes back), but do not
        # wait forever for a server that was never there.
        self._nc = await asyncio.wait_for(
            nats.connect(
                self.url,
                name="promoflow",
                connect_timeout=2,
                reconnect_time_wait=0.25,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                error_cb=quiet,
            ),
            timeout=5,
        )
        self._js = self._nc.jetstream(timeout=self._publish_timeout)
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(
                name=self.stream,
                subjects=[self._prefix + ">"],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )

    async def _disconnect(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()

    async def _publish(self, events: list[CloudEvent]) -> list[str]:
        js = self._require_js()

        # Pipelined: every publish goes out at once, then the acknowledgements are awaited.
        futures: list[asyncio.Future[Any]] = []
        for event in events:
            futures.append(
                await js.publish_async(
                    subject_for(str(event["type"]), self._prefix),
                    encode(event, check=False),  # consumers validate on decode
                    stream=self.stream,
                    headers={"Nats-Msg-Id": str(event["id"])},
                )
            )
        acks = await asyncio.gather(
            *(asyncio.wait_for(f, self._publish_timeout) for f in futures), return_exceptions=True
        )
        results = [
            ack if isinstance(ack, BaseException) else str(event["id"])
            for event, ack in zip(events, acks, strict=True)
        ]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            log.warning("nats_publish_failed", failed=len(failures), first=repr(failures[0]))
        return [r for r in results if isinstance(r, str)]

    def _require_js(self) -> JetStreamContext:
        if self._js is None:
            raise NatsUnavailable(f"NATS bus for {self.url} is not started")
        return self._js

    async def _start_consumer(self, consumer: Consumer) -> None:
        config = ConsumerConfig(
            ack_wait=self._ack_wait,
            max_deliver=-1,  # we count deliveries and dead-letter ourselves
            max_ack_pending=self._fetch_batch * 4,
            description=consumer.description[:200] or None,
        )
        subscription = await self._require_js().pull_subscribe(
            subject_for(consumer.event_type, self._prefix),
            durable=durable_name(consumer),
            stream=self.stream,
            config=config,
        )
        self._tasks.append(asyncio.create_task(self._pull(consumer, subscription)))

    async def _pull(
        self, consumer: Consumer, subscription: JetStreamContext.PullSubscription
    ) -> None:
        while not self._stopping:
            try:
                messages = await subscription.fetch(self._fetch_batch, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except nats.errors.TimeoutError:
                continue
            except Exception as error:  # reconnecting: the server is restarting
                if not self._stopping:
                    log.info("nats_fetch_failed", consumer=consumer.name, error=str(error))
                    await asyncio.sleep(0.25)
                continue
            for message in messages:
                await self._handle(consumer, message)

    async def _handle(self, consumer: Consumer, message: Msg) -> None:
        try:
            event = decode(message.data)
        except InvalidInput as error:
            await asyncio.to_thread(self._quarantine, consumer, message, error)
            await message.term()
            return
        attempt = message.metadata.num_delivered or 1
        try:
            await asyncio.to_thread(self.dispatcher.apply, consumer, event)
        except Exception as error:
            if attempt >= self.dispatcher.max_attempts:
                await asyncio.to_thread(self.dispatcher.give_up, consumer, event, error, attempt)
                await message.ack()
            else:
                log.warning(
                    "event_consumer_failed",
                    consumer=consumer.name,
                    id=event["id"],
                    attempt=attempt,
                    error=str(error),
                )
                await message.nak(delay=self._retry_delay * 2 ** (attempt - 1))
            return
        await message.ack()

    def _quarantine(self, consumer: Consumer, message: Msg, error: InvalidInput) -> None:
        quarantine(
            self.dispatcher.sessions,
            source=f"nats:{message.subject}"[:80],
            operation=f"{consumer.operation}.malformed",
            payload={"subject": message.subject, "body": message.data.decode(errors="replace")},
            reason=f"not a valid CloudEvent: {error.message}",
        )
