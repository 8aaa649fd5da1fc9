"""W3 of WORKLOADS.md on minicluster: join orders to customers, sum amount per country.

Usage: python benchmarks/w3_job.py DATA_DIR OUT_DIR [PARALLELISM]
BATCH mode. Reads ``DATA_DIR/customers.csv`` (``id,country``) and
``DATA_DIR/orders.csv`` (``id,customer_id,amount``) with FileSources, connects the
customers keyed by id with the orders keyed by customer id, and joins them in a
``KeyedCoProcessFunction``: the customer's country lives in keyed ``ValueState``, and
each order yields ``(country, amount)``. Then ``key_by(country).sum(1)`` (one final sum
per country) and ``country\\tsum`` lines with a FileSink into OUT_DIR. Prints
``JOB_WALL_S <seconds>``.

Orders of a customer that arrive before the customer wait in ``ListState``: needed in
STREAMING; in BATCH the task feeds the join each key's customers (input 0) before its
orders (input 1), so that buffer stays empty.
"""

import os
from operator import itemgetter
import shutil
import sys
import time

from minicluster.common import Encoder, Types, WatermarkStrategy
from minicluster.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSink, FileSource, StreamFormat
from minicluster.datastream.functions import KeyedCoProcessFunction
from minicluster.datastream.state import ListStateDescriptor, ValueStateDescriptor


def parse_customer(line):
    customer_id, country = line.split(",")
    return customer_id, country


def parse_order(line):
    _, customer_id, amount = line.split(",")
    return customer_id, int(amount)


class JoinCountry(KeyedCoProcessFunction):
    """Customers (input 0) set the key's country; orders (input 1) emit
    ``(country, amount)``, or wait in a buffer until their customer arrives."""

    def open(self, runtime_context):
        self.country = runtime_context.get_state(
            ValueStateDescriptor("country", Types.STRING())
        )
        self.waiting = runtime_context.get_list_state(
            ListStateDescriptor("waiting", Types.LONG())
        )

    def process_element1(self, customer, ctx):
        country = customer[1]
        self.country.update(country)
        waiting = self.waiting.get()
        if waiting:
            amounts = list(waiting)
            self.waiting.clear()
            return [(country, amount) for amount in amounts]
        return None

    def process_element2(self, order, ctx):
        country = self.country.value()
        if country is None:
            self.waiting.add(order[1])
            return None
        return ((country, order[1]),)


def text_source(env, path, name):
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), path
    ).process_static_file_set().build()
    return env.from_source(source, WatermarkStrategy.no_watermarks(), name)


def main() -> None:
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    parallelism = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    shutil.rmtree(out_dir, ignore_errors=True)  # part files are uniquely named: start empty
    started = time.perf_counter()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    customers = text_source(env, os.path.join(data_dir, "customers.csv"), "customers")
    orders = text_source(env, os.path.join(data_dir, "orders.csv"), "orders")
    (
        customers.map(parse_customer).key_by(itemgetter(0))  # the id
        .connect(orders.map(parse_order).key_by(itemgetter(0)))  # the customer id
        .process(JoinCountry())
        .key_by(itemgetter(0))  # the country
        .sum(1)
        .map(lambda pair: f"{pair[0]}\t{pair[1]}")
        .sink_to(FileSink.for_row_format(out_dir, Encoder.simple_string_encoder()).build())
    )
    env.execute("W3")
    print(f"JOB_WALL_S {time.perf_counter() - started:.6f}", flush=True)


if __name__ == "__main__":
    main()
