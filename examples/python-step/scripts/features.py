"""Adds petal and sepal areas (and, with --ratio true, their ratio) to a CSV table."""
import argparse
import csv

parser = argparse.ArgumentParser()
parser.add_argument("source")
parser.add_argument("target")
parser.add_argument("--ratio", default="true")
args = parser.parse_args()

with open(args.source, newline="") as f, open(args.target, "w", newline="") as out:
    rows = csv.DictReader(f)
    names = list(rows.fieldnames) + ["petal_area", "sepal_area"] + (["area_ratio"] if args.ratio == "true" else [])
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    n = 0
    for row in rows:
        row["petal_area"] = float(row["petal_length"]) * float(row["petal_width"])
        row["sepal_area"] = float(row["sepal_length"]) * float(row["sepal_width"])
        if args.ratio == "true":
            row["area_ratio"] = row["petal_area"] / row["sepal_area"]
        writer.writerow(row)
        n += 1
print(f"wrote {n} rows with {len(names)} columns")
