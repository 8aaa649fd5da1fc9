"""Tests for ``minicluster.network.channels`` (credit-based flow control) and the
wire format in ``minicluster.network.codec``.

The transport is a plain list append, so every assertion is about what crossed the
"wire" and in which order.
"""

import pickle

import pytest

from minicluster.common import Row
from minicluster.network.channels import InputChannel, OutputChannel
from minicluster.network.codec import (
    CREDIT,
    DATA,
    EVENT,
    PROTOCOL,
    decode_credit,
    decode_header,
    decode_payload,
    encode_credit,
    encode_header,
    encode_payload,
)
from minicluster.network.events import EndOfPartition


def _output(credit):
    wire = []
    channel = OutputChannel(7, credit, lambda kind, payload: wire.append((kind, payload)))
    return channel, wire


def test_kinds_are_the_wire_constants():
    assert (DATA, EVENT, CREDIT) == (0, 1, 2)


# -- OutputChannel --------------------------------------------------------------------


def test_sends_while_credit_lasts_then_queues_in_pending():
    channel, wire = _output(credit=2)

    channel.send_batch([1])
    channel.send_batch([2])
    assert wire == [(DATA, [1]), (DATA, [2])]
    assert channel.credit == 0
    assert not channel.is_blocked

    channel.send_batch([3])
    channel.send_batch([4])
    assert wire == [(DATA, [1]), (DATA, [2])]
    assert list(channel.pending) == [(DATA, [3]), (DATA, [4])]
    assert channel.is_blocked


def test_zero_initial_credit_queues_the_first_batch():
    channel, wire = _output(credit=0)

    channel.send_batch(["a"])

    assert wire == []
    assert channel.is_blocked
    assert channel.channel_id == 7


def test_event_without_pending_data_goes_at_once_and_takes_no_credit():
    channel, wire = _output(credit=0)
    eop = EndOfPartition()

    channel.send_event(eop)

    assert wire == [(EVENT, eop)]
    assert channel.credit == 0
    assert not channel.is_blocked


def test_event_waits_behind_pending_data():
    channel, wire = _output(credit=1)
    channel.send_batch([1])
    channel.send_batch([2])

    channel.send_event("watermark")

    assert wire == [(DATA, [1])]
    assert list(channel.pending) == [(DATA, [2]), (EVENT, "watermark")]


def test_add_credit_flushes_in_order_and_events_take_no_credit():
    channel, wire = _output(credit=0)
    channel.send_batch([1])
    channel.send_event("e1")
    channel.send_batch([2])
    channel.send_batch([3])
    channel.send_event("e2")

    channel.add_credit(1)
    assert wire == [(DATA, [1]), (EVENT, "e1")]  # the event right behind it goes too
    assert list(channel.pending) == [(DATA, [2]), (DATA, [3]), (EVENT, "e2")]
    assert channel.credit == 0

    channel.add_credit(1)
    assert wire[2:] == [(DATA, [2])]
    assert channel.is_blocked

    channel.add_credit(5)
    assert wire == [
        (DATA, [1]), (EVENT, "e1"), (DATA, [2]), (DATA, [3]), (EVENT, "e2"),
    ]
    assert not channel.is_blocked
    assert channel.credit == 4


def test_new_batch_does_not_overtake_pending_ones_even_with_credit():
    channel, wire = _output(credit=0)
    channel.send_batch([1])
    channel.credit = 1  # credit arrived but the channel was not flushed yet

    channel.send_batch([2])

    assert wire == []
    assert list(channel.pending) == [(DATA, [1]), (DATA, [2])]
    channel.flush()
    assert wire == [(DATA, [1])]
    assert list(channel.pending) == [(DATA, [2])]


def test_flush_without_credit_sends_nothing():
    channel, wire = _output(credit=0)
    channel.send_batch([1])

    channel.flush()

    assert wire == []
    assert channel.is_blocked


def test_in_flight_batches_never_exceed_the_credit_granted():
    channel, wire = _output(credit=3)
    for i in range(10):
        channel.send_batch([i])
    assert len(wire) == 3

    channel.add_credit(2)
    assert len(wire) == 5
    assert [payload for _, payload in wire] == [[0], [1], [2], [3], [4]]


# -- InputChannel ---------------------------------------------------------------------


def test_take_returns_credit_for_data_but_not_for_events():
    returned = []
    channel = InputChannel(7, 1, returned.append)
    channel.deliver(DATA, [1, 2])
    channel.deliver(EVENT, "barrier")
    channel.deliver(DATA, [3])

    assert channel.take() == (DATA, [1, 2])
    assert returned == [1]
    assert channel.take() == (EVENT, "barrier")
    assert returned == [1]
    assert channel.take() == (DATA, [3])
    assert returned == [1, 1]
    assert not channel.queue
    assert (channel.channel_id, channel.input_index, channel.finished) == (7, 1, False)


def test_take_from_an_empty_channel_raises():
    channel = InputChannel(0, 0, lambda n: None)

    with pytest.raises(IndexError):
        channel.take()


def test_output_and_input_channels_together_bound_the_queue():
    """Wire an OutputChannel to an InputChannel: the consumer's queue never holds more
    data batches than the initial credit (events take none), and credit returned on
    take() lets the producer go on."""
    initial = 2
    output = None

    def return_credit(n):
        output.add_credit(n)

    input_channel = InputChannel(0, 0, return_credit)
    output = OutputChannel(0, initial, input_channel.deliver)

    for i in range(6):
        output.send_batch([i])
    output.send_event("end")
    assert len(input_channel.queue) == initial
    assert output.is_blocked

    def queued_batches():
        return sum(1 for kind, _ in input_channel.queue if kind == DATA)

    received = []
    while input_channel.queue:
        assert queued_batches() <= initial
        received.append(input_channel.take())

    assert received == [(DATA, [i]) for i in range(6)] + [(EVENT, "end")]
    assert not output.is_blocked
    assert output.credit == initial


# -- codec ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [(0, 0, DATA), (1, 2, EVENT), (2**32 - 1, 2**32 - 1, CREDIT), (12345, 678, 255)],
)
def test_header_round_trips_in_nine_bytes(header):
    frame = encode_header(*header)

    assert isinstance(frame, bytes)
    assert len(frame) == 9
    assert decode_header(frame) == header


def test_header_is_little_endian():
    assert encode_header(1, 2, EVENT) == b"\x01\x00\x00\x00\x02\x00\x00\x00\x01"


def test_header_out_of_range_raises():
    import struct

    with pytest.raises(struct.error):
        encode_header(2**32, 0, DATA)
    with pytest.raises(struct.error):
        encode_header(0, 0, 256)


def test_payload_round_trips_with_pickle_protocol_5():
    batch = [1, "two", b"3", (4.0, None), Row(word="a", count=1), {"k": [1]}]

    frame = encode_payload(batch)

    assert PROTOCOL == 5
    assert frame[:2] == b"\x80\x05"  # PROTO opcode, version 5
    decoded = decode_payload(frame)
    assert decoded == batch
    assert decoded[4].word == "a"
    assert pickle.loads(frame) == batch


def test_event_payload_round_trips():
    decoded = decode_payload(encode_payload(EndOfPartition()))

    assert type(decoded) is EndOfPartition


@pytest.mark.parametrize("n", [0, 1, 255, 2**16, 2**32 - 1])
def test_credit_round_trips(n):
    frame = encode_credit(n)

    assert len(frame) == 4
    assert decode_credit(frame) == n
