"""An operator chain: the operators of one JobVertex fused into one per-batch pipeline.

The chain is a tree (a node may feed several chained successors and several network
edges, for its main output and for side outputs). When an exception escapes an
operator, ``push`` names the operator on it and moves the failing record's position
from the operator's output to its input (``provenance.py``), so that the source can
name the record's file and line. Each ``ChainNode`` is the
``Output`` of its operator: what the operator collects goes, as a whole batch, to the
chained successors and the network writers. Nothing is done per record here.
"""

from __future__ import annotations

from minicluster.network.events import ACTIVE, IDLE, Watermark
from minicluster.network.record_writer import RecordWriter
from minicluster.operators.base import StreamOperator, tag_operator
from minicluster.operators.provenance import trace_back


class ChainNode:
    __slots__ = ("operator", "name", "children", "writers", "side_children", "side_writers")

    def __init__(self, operator: StreamOperator, name: str) -> None:
        self.operator = operator
        self.name = name
        self.children: list[ChainNode] = []
        self.writers: list[RecordWriter] = []
        self.side_children: dict[str, list[ChainNode]] = {}
        self.side_writers: dict[str, list[RecordWriter]] = {}
        operator.output = self

    # -- driving the operator ------------------------------------------------------

    def push(self, values: list, timestamps: list | None, input_index: int = 0) -> None:
        try:
            self.operator.process_batch(values, timestamps, input_index)
        except BaseException as error:  # SystemExit in user code too
            tag_operator(error, self.name)
            trace_back(error, self.operator, values)  # the failing record's position
            raise

    def process_watermark(self, watermark: int) -> None:
        try:
            self.operator.process_watermark(watermark)
        except BaseException as error:
            tag_operator(error, self.name)
            raise

    def process_watermark_status(self, idle: bool) -> None:
        try:
            self.operator.process_watermark_status(idle)
        except BaseException as error:
            tag_operator(error, self.name)
            raise

    def end_input(self) -> None:
        try:
            self.operator.end_input()
        except BaseException as error:
            tag_operator(error, self.name)
            raise
        for child in self.all_children():
            child.end_input()

    # -- Output ------------------------------------------------------------------------

    def collect(self, values: list, timestamps: list | None) -> None:
        if not values:
            return
        for child in self.children:
            child.push(values, timestamps)
        for writer in self.writers:
            _emit(writer, values, timestamps)

    def collect_side(self, tag_id: str, values: list, timestamps: list | None) -> None:
        if not values:
            return
        for child in self.side_children.get(tag_id, ()):
            child.push(values, timestamps)
        for writer in self.side_writers.get(tag_id, ()):
            _emit(writer, values, timestamps)

    def emit_watermark(self, watermark: int) -> None:
        for child in self.all_children():
            child.process_watermark(watermark)
        event = Watermark(watermark)
        for writer in self.all_writers():
            writer.broadcast_event(event)

    def emit_watermark_status(self, idle: bool) -> None:
        """Idleness goes to every writer and chained operator downstream (operators
        pass it on unless they override ``process_watermark_status``)."""
        event = IDLE if idle else ACTIVE
        for writer in self.all_writers():
            writer.broadcast_event(event)
        for child in self.all_children():
            child.process_watermark_status(idle)

    # -- structure -----------------------------------------------------------------------

    def all_children(self) -> list[ChainNode]:
        nodes = list(self.children)
        for side in self.side_children.values():
            nodes.extend(side)
        return nodes

    def all_writers(self) -> list[RecordWriter]:
        writers = list(self.writers)
        for side in self.side_writers.values():
            writers.extend(side)
        return writers

    def walk(self):
        yield self
        for child in self.all_children():
            yield from child.walk()


def _emit(writer: RecordWriter, values: list, timestamps: list | None) -> None:
    try:
        writer.emit(values, timestamps)
    except BaseException as error:
        tag_operator(error, writer.name)
        raise
