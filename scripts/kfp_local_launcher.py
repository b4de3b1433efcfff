#!/usr/bin/env python3
"""Runs a compiled KFP PipelineSpec on this machine the way KFP's launcher would, without Kubernetes.

Usage: kfp_local_launcher.py SPEC.yaml --flywheel PATH --work DIR [--param k=v ...]

For each root task in dependency order it resolves the task's inputs (pipeline params, upstream
output parameters and artifacts), substitutes KFP's placeholders in the container's command and
args ({{$.inputs.parameters['x']}}, {{$.inputs.artifacts['x'].path}},
{{$.outputs.artifacts['x'].path}}, {{$.outputs.parameters['x'].output_file}}), runs it (the
image's 'flywheel' is the local binary), reads the output parameters back, and evaluates trigger
policies and parameter iterators. Prints a JSON summary: task -> {status, parameters, artifacts}.
It exists to test that compiled containers really work from KFP's placeholders.
"""
import argparse, json, os, re, subprocess, sys
import yaml

ap = argparse.ArgumentParser()
ap.add_argument("spec")
ap.add_argument("--flywheel", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--param", action="append", default=[])
args = ap.parse_args()

spec = [d for d in yaml.safe_load_all(open(args.spec)) if d][0]
root, comps, execs = spec["root"], spec["components"], spec["deploymentSpec"]["executors"]
params = {k: v.get("defaultValue") for k, v in root.get("inputDefinitions", {}).get("parameters", {}).items()}
for p in args.param:
    k, v = p.split("=", 1)
    params[k] = json.loads(v) if v[:1] in "[{0123456789-tf" and v not in ("true", "false") or v in ("true", "false") else v
    if v in ("true", "false"):
        params[k] = v == "true"

results = {}  # task -> {"status", "parameters", "artifacts"}


def as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_param(path, ptype):
    text = open(path).read() if os.path.exists(path) else ""
    if ptype == "BOOLEAN":
        return text.strip() == "true"
    if ptype in ("NUMBER_INTEGER", "NUMBER_DOUBLE"):
        return float(text)
    if ptype in ("LIST", "STRUCT"):
        return json.loads(text)
    return text


def resolve_inputs(task, scope):
    values, files = {}, {}
    for name, src in task.get("inputs", {}).get("parameters", {}).items():
        if "componentInputParameter" in src:
            values[name] = scope[src["componentInputParameter"]]
        elif "taskOutputParameter" in src:
            s = src["taskOutputParameter"]
            values[name] = results[s["producerTask"]]["parameters"][s["outputParameterKey"]]
        elif "runtimeValue" in src:
            values[name] = src["runtimeValue"]["constant"]
    for name, src in task.get("inputs", {}).get("artifacts", {}).items():
        if "taskOutputArtifact" in src:
            s = src["taskOutputArtifact"]
            files[name] = results[s["producerTask"]]["artifacts"][s["outputArtifactKey"]]
        elif "componentInputArtifact" in src:
            files[name] = scope[src["componentInputArtifact"]]
    return values, files


def condition_holds(task, values):
    cond = task.get("triggerPolicy", {}).get("condition")
    if not cond:
        return True
    expr = re.sub(r"inputs\.parameter_values\['([^']+)'\]", lambda m: repr(values[m.group(1)]), cond)
    expr = expr.replace("&&", " and ").replace("||", " or ").replace("!(", " not (").replace("true", "True").replace("false", "False")
    return bool(eval(expr, {}))


def run_container(tname, task, values, files):
    comp = comps[task["componentRef"]["name"]]
    container = execs[comp["executorLabel"]]["container"]
    outdir = os.path.join(args.work, tname)
    os.makedirs(outdir, exist_ok=True)
    out_art = {n: os.path.join(outdir, "artifacts", n) for n in comp.get("outputDefinitions", {}).get("artifacts", {})}
    out_par = {n: os.path.join(outdir, "parameters", n) for n in comp.get("outputDefinitions", {}).get("parameters", {})}
    for p in list(out_art.values()) + list(out_par.values()):
        os.makedirs(os.path.dirname(p), exist_ok=True)

    def sub(s):
        s = re.sub(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}", lambda m: as_text(values[m.group(1)]), s)
        s = re.sub(r"\{\{\$\.inputs\.artifacts\['([^']+)'\]\.path\}\}", lambda m: files[m.group(1)] if isinstance(files[m.group(1)], str) else " ".join(files[m.group(1)]), s)
        s = re.sub(r"\{\{\$\.outputs\.artifacts\['([^']+)'\]\.path\}\}", lambda m: out_art[m.group(1)], s)
        s = re.sub(r"\{\{\$\.outputs\.parameters\['([^']+)'\]\.output_file\}\}", lambda m: out_par[m.group(1)], s)
        return s

    argv = [sub(x) for x in container.get("command", []) + container.get("args", [])]
    if argv and argv[0] == "flywheel":
        argv[0] = args.flywheel
    env = dict(os.environ)
    for e in container.get("env", []):
        env[e["name"]] = e["value"]
    proc = subprocess.run(argv, cwd=os.environ.get("FLYWHEEL_WORKSPACE", args.work), env=env, capture_output=True, text=True, timeout=300)
    sys.stderr.write(f"--- {tname}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        return {"status": "failed", "parameters": {}, "artifacts": {}}
    ptypes = comp.get("outputDefinitions", {}).get("parameters", {})
    return {"status": "succeeded",
            "parameters": {n: read_param(p, ptypes[n]["parameterType"]) for n, p in out_par.items()},
            "artifacts": out_art}


tasks = root["dag"]["tasks"]
pending = dict(tasks)
while pending:
    ready = [t for t, ts in pending.items() if all(d in results for d in ts.get("dependentTasks", []))]
    if not ready:
        sys.exit("no task can run: a dependency cycle or a missing task")
    for tname in sorted(ready):
        task = pending.pop(tname)
        if any(results[d]["status"] != "succeeded" for d in task.get("dependentTasks", [])):
            results[tname] = {"status": "skipped", "parameters": {}, "artifacts": {}}
            continue
        values, files = resolve_inputs(task, params)
        if not condition_holds(task, values):
            results[tname] = {"status": "skipped", "parameters": {}, "artifacts": {}}
            continue
        it = task.get("parameterIterator")
        if it:
            items = json.loads(it["items"]["raw"]) if "raw" in it["items"] else values[it["items"]["inputParameter"]]
            loop = comps[task["componentRef"]["name"]]
            (inner_name, inner), = loop["dag"]["tasks"].items()
            collected, status = {}, "succeeded"
            for i, item in enumerate(items):
                scope = dict(values, **files)
                scope[it["itemInput"]] = item
                v, f = resolve_inputs(inner, scope)
                r = run_container(f"{tname}-{i}", inner, v, f)
                status = status if r["status"] == "succeeded" else "failed"
                for k, p in r["artifacts"].items():
                    collected.setdefault(k, []).append(p)
            results[tname] = {"status": status, "parameters": {}, "artifacts": collected}
        else:
            results[tname] = run_container(tname, task, values, files)

print(json.dumps(results, indent=2, sort_keys=True))
