"""Word count: the classic first job, written against PyFlink's DataStream API.

Run it with ``minicluster run examples/word_count.py -p 2`` (or plain ``python``).
Pass ``--input FILE`` to count the words of a text file instead of the built-in text.
To run it on Apache Flink, change the ``minicluster`` imports to ``pyflink``.
"""

import argparse

from minicluster.datastream import StreamExecutionEnvironment

TEXT = [
    "To be, or not to be, that is the question:",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune,",
    "Or to take arms against a sea of troubles",
    "And by opposing end them. To die: to sleep;",
]


def split(line):
    for word in line.lower().split():
        word = word.strip(".,:;'!?")
        if word:
            yield word, 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", help="a text file to count (default: built-in text)")
    args = parser.parse_args()

    env = StreamExecutionEnvironment.get_execution_environment()
    lines = env.read_text_file(args.input) if args.input else env.from_collection(TEXT)
    (
        lines.flat_map(split)
        .key_by(lambda pair: pair[0])
        .sum(1)
        .print()
    )
    env.execute("word count")


if __name__ == "__main__":
    main()
