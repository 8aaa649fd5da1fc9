"""minicluster: a Flink-shaped dataflow engine that runs a real cluster on one machine."""
