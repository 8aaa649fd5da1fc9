"""Windows, window assigners, triggers and evictors (PyFlink's ``pyflink.datastream.window``).

Key classes:
    - Windows: ``TimeWindow(start, end)``, ``CountWindow(id)``, ``GlobalWindow``.
    - Assigners: ``TumblingEventTimeWindows``, ``SlidingEventTimeWindows``,
      ``EventTimeSessionWindows`` (``with_gap``, ``with_dynamic_gap``), their
      processing-time twins, ``GlobalWindows``, ``CountTumblingWindowAssigner``,
      ``CountSlidingWindowAssigner``.
    - Triggers: ``Trigger`` (subclass it), ``TriggerResult``, ``EventTimeTrigger``,
      ``ProcessingTimeTrigger``, ``CountTrigger``, ``PurgingTrigger``,
      ``ContinuousEventTimeTrigger``, ``ContinuousProcessingTimeTrigger``,
      ``NeverTrigger``.
    - Evictors (Flink's, which PyFlink lacks): ``Evictor``, ``CountEvictor``,
      ``TimeEvictor``, ``DeltaEvictor``, with ``TimestampedValue`` elements.

The classes live in ``minicluster.operators.window`` so that the runtime can use them
without importing the DataStream API; this module is their public address.
"""

from minicluster.operators.window.assigners import (
    CountSlidingWindowAssigner,
    CountTumblingWindowAssigner,
    DynamicEventTimeSessionWindows,
    DynamicProcessingTimeSessionWindows,
    EventTimeSessionWindows,
    GlobalWindows,
    MergingWindowAssigner,
    ProcessingTimeSessionWindows,
    SessionWindowTimeGapExtractor,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
    WindowAssigner,
)
from minicluster.operators.window.evictors import (
    CountEvictor,
    DeltaEvictor,
    Evictor,
    TimeEvictor,
    TimestampedValue,
)
from minicluster.operators.window.triggers import (
    ContinuousEventTimeTrigger,
    ContinuousProcessingTimeTrigger,
    CountTrigger,
    EventTimeTrigger,
    NeverTrigger,
    ProcessingTimeTrigger,
    PurgingTrigger,
    Trigger,
    TriggerResult,
)
from minicluster.operators.window.windows import CountWindow, GlobalWindow, TimeWindow, Window

__all__ = [
    "ContinuousEventTimeTrigger",
    "ContinuousProcessingTimeTrigger",
    "CountEvictor",
    "CountSlidingWindowAssigner",
    "CountTrigger",
    "CountTumblingWindowAssigner",
    "CountWindow",
    "DeltaEvictor",
    "DynamicEventTimeSessionWindows",
    "DynamicProcessingTimeSessionWindows",
    "EventTimeSessionWindows",
    "EventTimeTrigger",
    "Evictor",
    "GlobalWindow",
    "GlobalWindows",
    "MergingWindowAssigner",
    "NeverTrigger",
    "ProcessingTimeSessionWindows",
    "ProcessingTimeTrigger",
    "PurgingTrigger",
    "SessionWindowTimeGapExtractor",
    "SlidingEventTimeWindows",
    "SlidingProcessingTimeWindows",
    "TimeEvictor",
    "TimeWindow",
    "TimestampedValue",
    "Trigger",
    "TriggerResult",
    "TumblingEventTimeWindows",
    "TumblingProcessingTimeWindows",
    "Window",
    "WindowAssigner",
]
