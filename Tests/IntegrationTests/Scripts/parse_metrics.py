#!/usr/bin/env python3
"""Parses a Prometheus text exposition with the reference parser and prints it as JSON.

Usage: parse_metrics.py FILE

Prints {"families": {NAME: {"type": TYPE, "samples": [[NAME, LABELS, VALUE], ...]}}}.
A line the parser rejects makes it exit non-zero with the parser's message.
"""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families  # from PyPI


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        text = handle.read()
    families = {}
    for family in text_string_to_metric_families(text):
        samples = []
        for sample in family.samples:
            value = sample.value
            if math.isinf(value):
                value = "+Inf" if value > 0 else "-Inf"
            samples.append([sample.name, sample.labels, value])
        families[family.name] = {"type": family.type, "samples": samples}
    print(json.dumps({"families": families}))


if __name__ == "__main__":
    main()
