#!/usr/bin/env python3
# The project's shared strict checker (../shared/tools/validate_kfp.py), kept here so a clean clone can run it.
"""Strict check of a Kubeflow Pipelines v2 PipelineSpec YAML with the kfp package alone.

Usage: python3 validate_kfp.py FILE.yaml [...]   (pip install kfp pyyaml)
Exits 1 if any file fails. kfp's own loader is lenient: deploymentSpec is an untyped Struct
inside PipelineSpec and nothing checks references, so this parses it separately and checks
that every componentRef, executor, producerTask and placeholder resolves.
"""
import re, sys, yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as pb
import kfp.components


def check(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    spec, errs = docs[0], []
    json_format.ParseDict(spec, pb.PipelineSpec(), ignore_unknown_fields=False)
    json_format.ParseDict(spec.get("deploymentSpec", {}), pb.PipelineDeploymentConfig(), ignore_unknown_fields=False)
    if len(docs) > 1:
        json_format.ParseDict(docs[1], pb.PlatformSpec(), ignore_unknown_fields=False)
    kfp.components.load_component_from_file(path)
    errs += [f"missing {k}" for k in ("pipelineInfo", "root", "deploymentSpec", "schemaVersion") if k not in spec]
    if errs:
        return errs
    comps, execs = spec.get("components", {}), spec["deploymentSpec"]["executors"]
    defs = lambda c, side, kind: c.get(side + "Definitions", {}).get(kind, {})
    for cname, c in [("root", spec["root"]), *comps.items()]:
        if "executorLabel" in c:
            ex = execs.get(c["executorLabel"])
            if ex is None:
                errs.append(f"{cname}: no executor {c['executorLabel']}")
                continue
            cont = ex.get("container", {})
            for s in cont.get("command", []) + cont.get("args", []):
                for side, kind, n in re.findall(r"\{\{\$\.(input|output)s\.(parameters|artifacts)\['([^']+)'\]", s):
                    if n not in defs(c, side, kind):
                        errs.append(f"{cname}: undeclared placeholder {side}s.{kind}[{n}]")
        tasks = c.get("dag", {}).get("tasks", {})
        for t, ts in tasks.items():
            if ts["componentRef"]["name"] not in comps:
                errs.append(f"{cname}/{t}: unknown componentRef")
            deps = set(ts.get("dependentTasks", []))
            errs += [f"{cname}/{t}: unknown dependentTask {d}" for d in deps - tasks.keys()]
            for kind in ("parameters", "artifacts"):
                for src in ts.get("inputs", {}).get(kind, {}).values():
                    p = (src.get("taskOutputParameter") or src.get("taskOutputArtifact") or {}).get("producerTask")
                    if p and p not in deps:
                        errs.append(f"{cname}/{t}: producer {p} not in dependentTasks")
    return errs


if __name__ == "__main__":
    bad = 0
    for f in sys.argv[1:]:
        try:
            errs = check(f)
        except Exception as e:  # a parse error is a failure of the file, reported, not a crash
            errs = [f"{type(e).__name__}: {e}"]
        print(("OK  " if not errs else "FAIL") + f" {f}", *errs, sep="\n   ")
        bad += bool(errs)
    sys.exit(1 if bad else 0)
