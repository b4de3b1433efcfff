"""Writes a one-page text report of an evaluation's metrics (a run: step in Python)."""
import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("--metrics", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

with open(args.metrics) as f:
    metrics = json.load(f)
lines = ["iris model report", ""] + [f"{k:>20}: {v:.4f}" for k, v in sorted(metrics.items())]
with open(args.out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"accuracy {metrics.get('accuracy', float('nan')):.4f} on {int(metrics.get('rows', 0))} rows")
