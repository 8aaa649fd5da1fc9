"""W0 of the benchmark workloads: start, a 10-record job, stop."""

from minicluster.datastream import StreamExecutionEnvironment

env = StreamExecutionEnvironment.get_execution_environment()
results = env.from_collection(range(10)).map(lambda x: x * 2).execute_and_collect()
print(sorted(results))
