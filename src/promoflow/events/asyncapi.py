"""The AsyncAPI 3.0 document of promoflow's events, generated from the catalogue."""

from __future__ import annotations

from typing import Any

from promoflow.events.catalogue import CATALOGUE, EventType
from promoflow.events.cloudevents import CONTENT_TYPE, SPECVERSION, subject_for
from promoflow.events.log import SOURCE

ASYNCAPI_VERSION = "3.0.0"


def _key(entry: EventType) -> str:
    return entry.name.replace(".", "_")


def _envelope(entry: EventType) -> dict[str, Any]:
    """The CloudEvents 1.0 structured envelope with this type's data."""
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
        "properties": {
            "specversion": {"type": "string", "const": SPECVERSION},
            "id": {"type": "string", "minLength": 1, "description": "Unique per event (UUID)."},
            "source": {"type": "string", "const": SOURCE},
            "type": {"type": "string", "const": entry.type},
            "subject": {"type": "string", "description": f"`{entry.subject}`"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "data": entry.data,
        },
    }


def _message(entry: EventType) -> dict[str, Any]:
    return {
        "name": entry.type,
        "title": entry.name,
        "summary": entry.description,
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "Nats-Msg-Id": {
                    "type": "string",
                    "description": "The CloudEvent id: JetStream drops a re-published duplicate.",
                }
            },
        },
        "payload": _envelope(entry),
    }


def document(version: str = "0.1.0") -> dict[str, Any]:
    """The AsyncAPI 3.0 document: one channel, message and send operation per event type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for entry in CATALOGUE:
        key = _key(entry)
        messages[key] = _message(entry)
        channels[key] = {
            "address": subject_for(entry.type),
            "description": entry.description,
            "servers": [{"$ref": "#/servers/nats"}],
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"send_{key}"] = {
            "action": "send",
            "summary": f"promoflow publishes {entry.type}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "promoflow events",
            "version": version,
            "description": (
                "Facts promoflow records about promotions, approvals, gates, inventory, "
                "purchase orders, exceptions and integrations, as CloudEvents 1.0 in JSON "
                "(structured mode). Relayed from the transactional outbox at least once: "
                "consumers dedupe on the event id."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "nats": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "NATS JetStream; stream PROMOFLOW_EVENTS holds promoflow.events.>",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
