"""Windows at runtime: window types, assigners, triggers, evictors and the operator.

    windows.py     TimeWindow, CountWindow, GlobalWindow
    assigners.py   which windows an element belongs to (tumbling, sliding, sessions,
                   global, count)
    triggers.py    when a pane fires or purges
    evictors.py    which elements a pane drops around the window function
    merging.py     MergingWindowSet: session windows and where their state lives
    functions.py   pane contents (list / reducing / aggregating) and the adapters of
                   the user's window functions
    contexts.py    the trigger, window-function, assigner and evictor contexts
    operator.py    WindowOperator: the general per-record path, timers, lateness
    aligned.py     the batch path for tumbling/sliding event-time windows
    preaggregation.py  the pre-aggregator in front of the keyed exchange (combiner
                   lifting) and the partial records it sends

The user-facing classes are public at ``minicluster.datastream.window`` (PyFlink's
``pyflink.datastream.window``); this package never imports the DataStream API.
"""
