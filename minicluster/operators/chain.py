"""An operator chain: the operators of one JobVertex fused into one per-batch pipeline.

The chain is a tree (a node may feed several chained successors and several network
edges). A batch pushed into a node runs its operator once and hands the whole output
list on; nothing is done per record here.
"""

from __future__ import annotations

from minicluster.network.record_writer import RecordWriter
from minicluster.operators.base import StreamOperator, tag_operator


class ChainNode:
    __slots__ = ("operator", "name", "children", "writers")

    def __init__(self, operator: StreamOperator, name: str) -> None:
        self.operator = operator
        self.name = name
        self.children: list[ChainNode] = []
        self.writers: list[RecordWriter] = []

    def push(self, batch: list, input_index: int = 0) -> None:
        try:
            out = self.operator.process_batch(batch, input_index)
        except BaseException as error:  # SystemExit in user code too
            tag_operator(error, self.name)
            raise
        if out:
            self._forward(out)

    def end_input(self) -> None:
        try:
            out = self.operator.end_input()
        except BaseException as error:  # SystemExit in user code too
            tag_operator(error, self.name)
            raise
        if out:
            self._forward(out)
        for child in self.children:
            child.end_input()

    def _forward(self, out: list) -> None:
        for child in self.children:
            child.push(out)
        for writer in self.writers:
            try:
                writer.emit(out)
            except BaseException as error:  # SystemExit in user code too
                tag_operator(error, writer.name)
                raise

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()
