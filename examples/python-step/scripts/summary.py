"""Prints each trained bundle's model name and training rows (a fan-in over the for_each models)."""
import json
import sys

for path in sys.argv[1:]:
    with open(path) as f:
        bundle = json.load(f)
    print(f"{bundle['model_name']}: seed {bundle['metadata']['seed']}, {bundle['metadata']['trainingRows']} rows")
