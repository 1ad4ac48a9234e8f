"""OCEL 2.0 XML, valid against the specification's XSD (ocel2-validation.xsd).

The XSD keys every attribute name over all object types (and over all event types),
so a name such as `status`, which several types declare, would be ambiguous: here
each attribute is named `<type>:<name>` (`approval task:status`). Relationships are
`<object object-id=... qualifier=... type=...>` elements, the form the XSD accepts.
"""

from __future__ import annotations

from typing import IO
from xml.sax.saxutils import escape, quoteattr

from promoflow.processmining.log import ObjectCentricLog, TypeAttributes, aligned


def qualified(type_name: str, attribute: str) -> str:
    """An attribute's name in the XML form: unique across types, as the XSD requires."""
    return f"{type_name}:{attribute}"


def write_xml(log: ObjectCentricLog, out: IO[str]) -> None:
    """Stream the log as one OCEL 2.0 XML document."""
    out.write("<?xml version='1.0' encoding='UTF-8'?>\n<log>\n")
    _types(out, "object", log.object_types)
    _types(out, "event", log.event_types)
    type_of = dict(log.objects.select("id", "type").iter_rows())
    _objects(out, log, type_of)
    _events(out, log, type_of)
    out.write("</log>\n")


def _types(out: IO[str], kind: str, declared: TypeAttributes) -> None:
    out.write(f"  <{kind}-types>\n")
    for name, attributes in declared.items():
        out.write(f"    <{kind}-type name={quoteattr(name)}>\n      <attributes>\n")
        for attribute, value_type in attributes:
            label = quoteattr(qualified(name, attribute))
            out.write(f'        <attribute name={label} type="{value_type}"/>\n')
        out.write(f"      </attributes>\n    </{kind}-type>\n")
    out.write(f"  </{kind}-types>\n")


def _relationships(out: IO[str], related: list[tuple[str, ...]], type_of: dict[str, str]) -> None:
    out.write("<objects>")
    for object_id, qualifier in related:
        out.write(
            f"<object object-id={quoteattr(object_id)} qualifier={quoteattr(qualifier)} "
            f"type={quoteattr(type_of[object_id])}/>"
        )
    out.write("</objects>")


def _objects(out: IO[str], log: ObjectCentricLog, type_of: dict[str, str]) -> None:
    out.write("  <objects>\n")
    ids = log.objects.get_column("id").to_list()
    attributes = aligned(ids, log.object_attributes, "object_id", ["name", "value", "time"])
    relations = aligned(ids, log.object_relations, "source_id", ["target_id", "qualifier"])
    for object_id, held, related in zip(ids, attributes, relations, strict=True):
        kind = type_of[object_id]
        out.write(f"    <object id={quoteattr(object_id)} type={quoteattr(kind)}><attributes>")
        for name, value, time in held:
            out.write(
                f"<attribute name={quoteattr(qualified(kind, name))} "
                f'time="{time}">{escape(value)}</attribute>'
            )
        out.write("</attributes>")
        _relationships(out, related, type_of)
        out.write("</object>\n")
    out.write("  </objects>\n")


def _events(out: IO[str], log: ObjectCentricLog, type_of: dict[str, str]) -> None:
    out.write("  <events>\n")
    ids = log.events.get_column("id").to_list()
    types = log.events.get_column("type").to_list()
    times = log.events.get_column("time").to_list()
    attributes = aligned(ids, log.event_attributes, "event_id", ["name", "value"])
    relations = aligned(ids, log.relations, "event_id", ["object_id", "qualifier"])
    for event_id, kind, time, held, related in zip(
        ids, types, times, attributes, relations, strict=True
    ):
        out.write(
            f'    <event id={quoteattr(event_id)} type={quoteattr(kind)} time="{time}"><attributes>'
        )
        for name, value in held:
            out.write(
                f"<attribute name={quoteattr(qualified(kind, name))}>{escape(value)}</attribute>"
            )
        out.write("</attributes>")
        _relationships(out, related, type_of)
        out.write("</event>\n")
    out.write("  </events>\n")
