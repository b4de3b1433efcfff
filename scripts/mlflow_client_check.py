"""Drives the real `mlflow` client against a Flywheel server and prints what it read back as JSON.

Usage: python mlflow_client_check.py TRACKING_URI WORKDIR

Each step uses the public client API exactly as a user's script would; the caller (a Swift test)
compares the printed values with what Flywheel's own store recorded.
"""
import json
import os
import sys

import mlflow
from mlflow.tracking import MlflowClient
from mlflow.exceptions import MlflowException

uri, work = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
client = MlflowClient()
out = {}

# An experiment: created on first use, found by name after.
mlflow.set_experiment("mlflow-compat")
exp = client.get_experiment_by_name("mlflow-compat")
out["experiment_id"] = exp.experiment_id
out["missing_experiment"] = client.get_experiment_by_name("no-such-experiment") is None

with mlflow.start_run(run_name="fit") as run:
    rid = run.info.run_id
    mlflow.log_param("alpha", 0.5)
    mlflow.log_params({"layers": 3, "optimizer": "adam"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.9, "f1": 0.85})
    mlflow.set_tag("team", "fraud")
    mlflow.set_tags({"stage": "dev"})
    path = os.path.join(work, "notes.txt")
    with open(path, "w") as f:
        f.write("hello from mlflow\n")
    mlflow.log_artifact(path)
    mlflow.log_artifact(path, artifact_path="docs/sub")
    mlflow.log_dict({"a": 1}, "config.json")
    mlflow.log_text("spaced\n", "my dir/my file.txt")
out["run_id"] = rid

got = client.get_run(rid)
out["status"] = got.info.status
out["run_name"] = got.info.run_name
out["params"] = got.data.params
out["metrics"] = got.data.metrics
out["tags"] = {k: v for k, v in got.data.tags.items() if not k.startswith("mlflow.")}
out["loss_history"] = [(m.step, m.value) for m in client.get_metric_history(rid, "loss")]
out["artifacts"] = sorted((a.path, a.is_dir, a.file_size) for a in client.list_artifacts(rid))
out["artifacts_docs"] = sorted(a.path for a in client.list_artifacts(rid, "docs"))
local = client.download_artifacts(rid, "docs/sub/notes.txt", work)
out["downloaded"] = open(local).read()
out["spaced_listing"] = sorted(a.path for a in client.list_artifacts(rid, "my dir"))
out["spaced_download"] = open(client.download_artifacts(rid, "my dir/my file.txt", work)).read()

# A second run, to search and order.
with mlflow.start_run(run_name="other"):
    mlflow.log_metric("acc", 0.5)
found = client.search_runs([exp.experiment_id], filter_string="metrics.acc > 0.6")
out["search_high"] = [r.info.run_id for r in found]
ordered = client.search_runs([exp.experiment_id], order_by=["metrics.acc ASC"])
out["search_order"] = [r.data.metrics.get("acc", -1) for r in ordered]  # -1: no acc (sorts last)

# Resuming a run by id, as a pipeline step does with MLFLOW_RUN_ID.
os.environ["MLFLOW_RUN_ID"] = rid
with mlflow.start_run() as again:
    out["resumed_same"] = again.info.run_id == rid
    mlflow.log_metric("resumed", 1.0)
os.environ.pop("MLFLOW_RUN_ID", None)
out["resumed_metric"] = client.get_run(rid).data.metrics.get("resumed")

# The model registry: register a run's model folder (it holds an MLmodel file), alias it, find it.
with mlflow.start_run(experiment_id=exp.experiment_id) as model_run:
    mlflow.log_text("flavors: {}\n", "model/MLmodel")
    mlflow.log_text("weights\n", "model/weights.txt")
mv = mlflow.register_model(f"runs:/{model_run.info.run_id}/model", "mlflow-model")
mv2 = client.create_model_version("mlflow-model", f"runs:/{model_run.info.run_id}/model/weights.txt", run_id=model_run.info.run_id)
client.set_registered_model_alias("mlflow-model", "champion", mv.version)
client.set_registered_model_alias("mlflow-model", "champion", mv2.version)
out["model_run_id"] = model_run.info.run_id
out["registered_versions"] = [mv.version, mv2.version]
out["by_alias"] = client.get_model_version_by_alias("mlflow-model", "champion").version
rm = client.get_registered_model("mlflow-model")
out["aliases"] = rm.aliases
out["searched_versions"] = sorted(v.version for v in client.search_model_versions("name='mlflow-model'"))
out["searched_models"] = [m.name for m in client.search_registered_models(filter_string="name LIKE 'mlflow-%'")]
client.delete_registered_model_alias("mlflow-model", "champion")
out["aliases_after_delete"] = client.get_registered_model("mlflow-model").aliases
try:
    client.create_model_version("mlflow-model", f"runs:/{rid}/notes.txt", run_id=model_run.info.run_id)
    out["mismatched_source"] = None
except MlflowException as e:
    out["mismatched_source"] = e.error_code
try:
    client.get_model_version("no-such-model", "1")
    out["missing_model"] = None
except MlflowException as e:
    out["missing_model"] = e.error_code

# With no experiment set, the client uses experiment "0", the default one.
mlflow.set_experiment(experiment_id="0")
with mlflow.start_run() as default_run:
    mlflow.log_metric("x", 1.0)
out["default_experiment"] = client.get_experiment(default_run.info.experiment_id).name

# Errors come back as MlflowExceptions with MLflow's codes.
try:
    client.get_run("0123456789abcdef0123456789abcdef")
    out["missing_run"] = None
except MlflowException as e:
    out["missing_run"] = e.error_code
try:
    client.create_experiment("mlflow-compat")
    out["duplicate_experiment"] = None
except MlflowException as e:
    out["duplicate_experiment"] = e.error_code
print(json.dumps(out))
