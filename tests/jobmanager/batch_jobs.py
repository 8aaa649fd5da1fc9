"""The W1 and W3 job shapes that several BATCH tests run (imported by the test
modules of this folder; not a test module itself)."""

from __future__ import annotations

from operator import itemgetter
from pathlib import Path

from minicluster.common import Types, WatermarkStrategy
from minicluster.datastream import StreamExecutionEnvironment
from minicluster.datastream.connectors.file_system import FileSource, StreamFormat
from minicluster.datastream.functions import KeyedCoProcessFunction
from minicluster.datastream.state import ListStateDescriptor, ValueStateDescriptor


def read_lines(env: StreamExecutionEnvironment, path: Path, name: str):
    source = FileSource.for_record_stream_format(
        StreamFormat.text_line_format(), str(path)
    ).process_static_file_set().build()
    return env.from_source(source, WatermarkStrategy.no_watermarks(), name)


def w1_job(env: StreamExecutionEnvironment, words: Path):
    """Word count: one final ``(word, count)`` per word."""
    return (
        read_lines(env, words, "words")
        .flat_map(lambda line: [(word, 1) for word in line.split()])
        .key_by(lambda pair: pair[0])
        .sum(1)
    )


class JoinCountry(KeyedCoProcessFunction):
    """Customers (input 0) set the key's country; orders (input 1) yield
    ``(country, amount)``. An order before its customer waits in list state and is
    counted under ``#buffered`` (BATCH feeds input 0 first, so none should)."""

    def open(self, runtime_context):
        self.country = runtime_context.get_state(ValueStateDescriptor("country", Types.STRING()))
        self.waiting = runtime_context.get_list_state(ListStateDescriptor("waiting", Types.LONG()))

    def process_element1(self, customer, ctx):
        self.country.update(customer[1])
        waiting = list(self.waiting.get() or [])
        self.waiting.clear()
        return [(customer[1], amount) for amount in waiting]

    def process_element2(self, order, ctx):
        country = self.country.value()
        if country is None:
            self.waiting.add(order[1])
            return [("#buffered", 1)]
        return [(country, order[1])]


def w3_job(env: StreamExecutionEnvironment, directory: Path):
    """Join ``orders.csv`` to ``customers.csv`` on the customer id, sum per country."""
    customers = read_lines(env, directory / "customers.csv", "customers").map(
        lambda line: tuple(line.split(","))
    )
    orders = read_lines(env, directory / "orders.csv", "orders").map(
        lambda line: (line.split(",")[1], int(line.split(",")[2]))
    )
    return (
        customers.key_by(itemgetter(0))
        .connect(orders.key_by(itemgetter(0)))
        .process(JoinCountry())
        .key_by(itemgetter(0))
        .sum(1)
    )
