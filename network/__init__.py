"""The data plane: partitioners, channels with credit-based flow control, the batch codec.

Key classes:
    - ``StreamPartitioner`` and its subclasses (``ForwardPartitioner``,
      ``KeyGroupStreamPartitioner``, ``RebalancePartitioner``, ...): which output
      channel each record of a batch goes to.
    - ``OutputChannel`` / ``InputChannel``: one producer-subtask -> consumer-subtask
      connection, bounded by credits.
    - ``DataPlane``: a TaskManager's ZeroMQ inbox and its links to the other
      TaskManagers' inboxes.
    - ``EndOfPartition``: the in-band event that closes a channel.

This package never imports the API layer.
"""

from minicluster.network.channels import InputChannel, OutputChannel
from minicluster.network.events import EndOfPartition
from minicluster.network.partitioners import (
    BroadcastPartitioner,
    CustomPartitionerWrapper,
    ForwardPartitioner,
    GlobalPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    RescalePartitioner,
    ShufflePartitioner,
    StreamPartitioner,
)

__all__ = [
    "BroadcastPartitioner",
    "CustomPartitionerWrapper",
    "EndOfPartition",
    "ForwardPartitioner",
    "GlobalPartitioner",
    "InputChannel",
    "KeyGroupStreamPartitioner",
    "OutputChannel",
    "RebalancePartitioner",
    "RescalePartitioner",
    "ShufflePartitioner",
    "StreamPartitioner",
]
