"""Reads every file named on the command line with Python's configparser and prints
one JSON object: file name -> the parsed structure, or the error class name.

The governor's INI reader must agree with this, file for file: it reads the dialect
of RawConfigParser() with its defaults plus inline_comment_prefixes=('#', ';').
"""
import configparser
import json
import sys

result = {}
for path in sys.argv[1:]:
    parser = configparser.RawConfigParser(inline_comment_prefixes=("#", ";"))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.Error as error:
        result[path] = {"error": type(error).__name__}
        continue
    result[path] = {
        "defaults": [[key, value] for key, value in parser._defaults.items()],
        "sections": [
            [name, [[key, value] for key, value in parser._sections[name].items()]]
            for name in parser.sections()
        ],
    }
json.dump(result, sys.stdout)
