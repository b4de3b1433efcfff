"""Drives a running `flywheel server` with the Open Inference Protocol's reference HTTP client
(tritonclient), as a KServe user would, and prints what it saw as JSON for the Swift test to check.

usage: oip_client_check.py URL DEPLOYMENT
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

url, model = sys.argv[1], sys.argv[2]
client = httpclient.InferenceServerClient(url=url)
out = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready(model),
    "metadata": client.get_model_metadata(model),
}

rows = np.array([[5.0, 3.4, 1.5, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]])
names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

# One tensor per feature, FP64.
inputs = []
for j, name in enumerate(names):
    t = httpclient.InferInput(name, [len(rows)], "FP64")
    t.set_data_from_numpy(rows[:, j].astype(np.float64), binary_data=False)
    inputs.append(t)
outputs = [httpclient.InferRequestedOutput("label", binary_data=False),
           httpclient.InferRequestedOutput("probabilities", binary_data=False)]
r = client.infer(model, inputs, outputs=outputs, request_id="oip-check-1")
out["per_feature"] = {
    "labels": [x.decode() if isinstance(x, bytes) else x for x in r.as_numpy("label").tolist()],
    "probabilities": r.as_numpy("probabilities").tolist(),
    "id": r.get_response().get("id"),
}

# One [N, 4] FP32 tensor.
m = httpclient.InferInput("input", list(rows.shape), "FP32")
m.set_data_from_numpy(rows.astype(np.float32), binary_data=False)
r = client.infer(model, [m], outputs=[httpclient.InferRequestedOutput("label", binary_data=False)])
out["matrix"] = {"labels": [x.decode() if isinstance(x, bytes) else x for x in r.as_numpy("label").tolist()]}

# A bad request: the client raises with the server's message.
bad = httpclient.InferInput("petal_width", [1], "BYTES")
bad.set_data_from_numpy(np.array([b"wide"], dtype=np.object_), binary_data=False)
try:
    client.infer(model, [bad])
    out["bad"] = None
except Exception as e:  # tritonclient's InferenceServerException
    out["bad"] = {"status": str(getattr(e, "status", lambda: None)()), "message": str(e.message() if hasattr(e, "message") else e)}

print(json.dumps(out))
