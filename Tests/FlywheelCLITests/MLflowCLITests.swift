import FlywheelCore
import FlywheelStore
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The MLflow tracking API checked with the real `mlflow` client (3.17.2, in .venv-mlflow, which
/// scripts/test.sh makes): what the client logs is what Flywheel's store records, and a pipeline
/// step's `mlflow` calls land in its step's run while a server serves the workspace.
@Suite(.serialized) struct MLflowCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = repo.appendingPathComponent(".venv-mlflow/bin/python")

    @Test(.timeLimit(.minutes(3))) func theMLflowClientLogsIntoTheStore() async throws {
        let cli = try CLI.workspace()
        let (server, port, _) = try await ServingCLITests().startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let (status, stdout, stderr) = try runPython(
            Self.python, [Self.repo.appendingPathComponent("scripts/mlflow_client_check.py").path, "http://127.0.0.1:\(port)", cli.cwd.path],
            env: ["MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"], venvHint: "mlflow-skinny")
        #expect(status == 0, "\(stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data((stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])

        // What the client read back is what it wrote …
        #expect(seen["status"] as? String == "FINISHED" && seen["run_name"] as? String == "fit")
        #expect(seen["params"] as? [String: String] == ["alpha": "0.5", "layers": "3", "optimizer": "adam"])
        #expect(seen["metrics"] as? [String: Double] == ["acc": 0.9, "f1": 0.85, "loss": 0.2])
        #expect(seen["tags"] as? [String: String] == ["team": "fraud", "stage": "dev"])
        #expect((seen["loss_history"] as? [[Double]])?.map { $0[1] } == [1, 0.5, 1.0 / 3, 0.25, 0.2])
        #expect(seen["downloaded"] as? String == "hello from mlflow\n")
        #expect(seen["artifacts_docs"] as? [String] == ["docs/sub"])
        #expect(seen["spaced_listing"] as? [String] == ["my dir/my file.txt"] && seen["spaced_download"] as? String == "spaced\n")
        #expect(seen["missing_experiment"] as? Bool == true && seen["resumed_same"] as? Bool == true && seen["resumed_metric"] as? Double == 1)
        #expect(seen["missing_run"] as? String == "RESOURCE_DOES_NOT_EXIST" && seen["duplicate_experiment"] as? String == "RESOURCE_ALREADY_EXISTS")
        #expect(seen["search_order"] as? [Double] == [0.5, 0.9])
        #expect(seen["default_experiment"] as? String == "Default")

        // … and what Flywheel's own store holds.
        let store = try SQLiteMetadataStore(path: cli.cwd.appendingPathComponent(".flywheel/flywheel.db").path)
        let id = RunID(try #require(seen["run_id"] as? String))
        let run = try #require(try await store.run(id: id))
        #expect(run.status == .finished && run.name == "fit" && run.endTime != nil)
        #expect(run.experimentID.rawValue == seen["experiment_id"] as? String)
        let data = try await store.runData(id: id)
        #expect(data.params == ["alpha": "0.5", "layers": "3", "optimizer": "adam"])
        #expect(data.latestMetrics["acc"]?.value == 0.9 && data.latestMetrics["resumed"]?.value == 1)
        #expect(try await store.metricHistory(runID: id, key: "loss").map(\.step) == [0, 1, 2, 3, 4])
        #expect(data.tags["team"] == "fraud" && data.tags["mlflow.runName"] == "fit")
        let artifacts = try await store.artifacts(runID: id, prefix: nil)
        #expect(artifacts.map(\.path).sorted() == ["config.json", "docs/sub/notes.txt", "my dir/my file.txt", "notes.txt"])
        #expect(try cli.run("runs", "show", id.rawValue).stdout.contains("alpha"))
        #expect(seen["search_high"] as? [String] == [id.rawValue])

        // The model registry: the client's view …
        #expect(seen["registered_versions"] as? [String] == ["1", "2"] && seen["by_alias"] as? String == "2")
        #expect(seen["aliases"] as? [String: String] == ["champion": "2"] && seen["aliases_after_delete"] as? [String: String] == [:])
        #expect(seen["searched_versions"] as? [String] == ["1", "2"] && seen["searched_models"] as? [String] == ["mlflow-model"])
        #expect(seen["missing_model"] as? String == "RESOURCE_DOES_NOT_EXIST" && seen["mismatched_source"] as? String == "INVALID_PARAMETER_VALUE")
        // … is Flywheel's registry: versions from the run, the file version with its digest, every alias move kept.
        let modelRun = RunID(try #require(seen["model_run_id"] as? String))
        let versions = try await store.modelVersions(model: "mlflow-model")
        #expect(versions.map(\.version) == [1, 2] && versions.allSatisfy { $0.runID == modelRun })
        let weights = try #require(try await store.artifacts(runID: modelRun, prefix: nil).first { $0.path == "model/weights.txt" })
        #expect(versions[1].digest == weights.digest && versions[0].digest == nil)
        let moves = try await store.registryEvents(model: "mlflow-model").filter { $0.alias == "champion" }
        #expect(moves.map(\.kind) == [.aliasSet, .aliasSet, .aliasDeleted] && moves.map { $0.version ?? $0.previousVersion } == [1, 2, 2])
        #expect(try cli.run("models", "show", "mlflow-model").stdout.contains("@champion"))
    }

    @Test(.timeLimit(.minutes(3))) func aPipelineStepsMLflowCallsLandInItsRun() async throws {
        let cli = try CLI.workspace()
        _ = try cli.write("""
            import mlflow
            mlflow.log_param("features", "petals")
            mlflow.log_metric("auc", 0.875, step=3)
            mlflow.set_tag("from", "step")
            """, to: "log.py")
        _ = try cli.write("""
            pipeline: mlflow-step
            steps:
              fit:
                run: \(Self.python.path) log.py
            """, to: "pipeline.yaml")
        let (server, _, _) = try await ServingCLITests().startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let run = try cli.run("run", "pipeline.yaml", "--json")
        #expect(run.ok, "\(run.stdout)\(run.stderr)")

        let store = try SQLiteMetadataStore(path: cli.cwd.appendingPathComponent(".flywheel/flywheel.db").path)
        let pipelineRun = try #require(try await store.listPipelineRuns(pipeline: "mlflow-step", limit: 1).first)
        let attempt = try #require(try await store.stepAttempts(pipelineRunID: pipelineRun.id).first { $0.step == "fit" })
        let stepRun = try #require(attempt.runID)
        let data = try await store.runData(id: stepRun)
        #expect(data.params["features"] == "petals" && data.tags["from"] == "step")
        #expect(try await store.metricHistory(runID: stepRun, key: "auc").map { [$0.value, Double($0.step)] } == [[0.875, 3]])
        // The step's run is a child of the pipeline run's tracking run.
        #expect(try await store.run(id: stepRun)?.parentID == pipelineRun.trackingRunID)

        // Once the server stops, steps run without MLflow variables (the stale record is ignored).
        kill(server.processIdentifier, SIGTERM)
        for _ in 0..<100 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        _ = try cli.write("""
            pipeline: plain
            steps:
              env: {run: 'test -z "$MLFLOW_TRACKING_URI" && test -z "$MLFLOW_RUN_ID"'}
            """, to: "plain.yaml")
        let plain = try cli.run("run", "plain.yaml")
        #expect(plain.ok, "\(plain.stdout)\(plain.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.cwd.appendingPathComponent(".flywheel/server.json").path))
    }

    @Test(.timeLimit(.minutes(2))) func badRequestsGetMLflowErrors() async throws {
        let cli = try CLI.workspace()
        let (server, port, _) = try await ServingCLITests().startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> (Int, [String: Any]) {
            var req = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
            req.httpMethod = method
            if let body {
                req.httpBody = Data(body.utf8)
                req.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await URLSession(configuration: .ephemeral).data(for: req)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }
        let cases: [(String, String, String?, Int, String, String)] = [
            ("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope", nil, 404, "RESOURCE_DOES_NOT_EXIST", "nope"),
            ("GET", "/api/2.0/mlflow/runs/get", nil, 400, "INVALID_PARAMETER_VALUE", "run_id"),
            ("POST", "/api/2.0/mlflow/runs/log-metric", #"{"run_id": "abc", "key": "x""#, 400, "BAD_REQUEST", "line 1"),  // as MLflow's server answers
            ("POST", "/api/2.0/mlflow/runs/log-metric", #"{"run_id": "abc", "key": "x", "value": 1}"#, 404, "RESOURCE_DOES_NOT_EXIST", "abc"),
            ("POST", "/api/2.0/mlflow/runs/create", #"{"experiment_id": "0", "start_time": "soon"}"#, 400, "INVALID_PARAMETER_VALUE", "start_time"),
            ("POST", "/api/2.0/mlflow/runs/search", #"{"filter": "metrics.acc >>> 1"}"#, 400, "INVALID_PARAMETER_VALUE", "filter error"),
            ("GET", "/api/2.0/mlflow/no/such/endpoint", nil, 404, "ENDPOINT_NOT_FOUND", "no/such/endpoint"),
            ("POST", "/api/2.0/mlflow/runs/create", #"{"experiment_id": "0", "tags": [{"key": "/bad", "value": "x"}]}"#, 400, "INVALID_PARAMETER_VALUE", "/bad"),
            ("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/abc/notes.txt", "x", 400, "INVALID_PARAMETER_VALUE", "EXPERIMENT_ID/RUN_ID/artifacts/PATH"),
        ]
        for (method, path, body, status, code, words) in cases {
            let (s, json) = try await call(method, path, body)
            #expect(s == status && json["error_code"] as? String == code, "\(method) \(path): \(s) \(json)")
            #expect((json["message"] as? String)?.contains(words) == true, "\(method) \(path): \(json)")
        }
        // The refused run left nothing behind.
        let (_, found) = try await call("POST", "/api/2.0/mlflow/runs/search", #"{"experiment_ids": []}"#)
        #expect((found["runs"] as? [Any])?.isEmpty ?? true)
        // A pattern of many wildcards is matched without recursion, and answers.
        let wild = String(repeating: "%", count: 5000)
        let (s, page) = try await call("POST", "/api/2.0/mlflow/experiments/search", #"{"filter": "name LIKE '\#(wild)Default'"}"#)
        #expect(s == 200 && (page["experiments"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Default"], "\(s) \(page)")
    }
}
