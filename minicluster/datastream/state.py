"""Keyed state (PyFlink's ``pyflink.datastream.state``): descriptors, TTL, state types.

Get state in a function's ``open`` from its runtime context, on a KeyedStream:
``self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))``;
every access then reads or writes the entry of the key of the record being processed.
"""

from minicluster.state.descriptors import (
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    StateDescriptor,
    StateTtlConfig,
    ValueStateDescriptor,
)
from minicluster.state.heap_backend import (
    AggregatingState,
    ListState,
    MapState,
    ReducingState,
    ValueState,
)

__all__ = [
    "AggregatingState",
    "AggregatingStateDescriptor",
    "ListState",
    "ListStateDescriptor",
    "MapState",
    "MapStateDescriptor",
    "ReducingState",
    "ReducingStateDescriptor",
    "StateDescriptor",
    "StateTtlConfig",
    "ValueState",
    "ValueStateDescriptor",
]
