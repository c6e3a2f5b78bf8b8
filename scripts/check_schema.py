"""Validates results files against the results format's JSON Schema with python-jsonschema, a reference
implementation independent of the Rust code that generated the schema.

usage: python3 scripts/check_schema.py SCHEMA RESULTS...
"""

import json
import sys

import jsonschema


def main() -> int:
    schema_path, *files = sys.argv[1:]
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in files:
        with open(path) as f:
            errors = list(validator.iter_errors(json.load(f)))
        for e in errors:
            print(f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
        bad += bool(errors)
        print(f"{path}: {'INVALID' if errors else 'valid'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
