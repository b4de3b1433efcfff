import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The path a user takes, exactly: train and register, apply a deployment, start the server,
/// POST a record the way `curl -d` does; then the log survives a SIGTERM and feedback joins it.
@Suite struct ServingCLITests {
    static let iris = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/iris/data/iris.csv")

    /// A workspace holding iris.csv with a forest trained on it registered as iris@production,
    /// and, if `deployed`, the deployment `iris` serving it.
    static func irisWorkspace(deployed: Bool) throws -> CLI {
        let cli = try CLI.workspace()
        try FileManager.default.copyItem(at: iris, to: cli.cwd.appendingPathComponent("iris.csv"))
        let train = try cli.run("train", "--data", "iris.csv", "--target", "species", "--register", "iris", "--alias", "production")
        guard train.ok else { throw CLI.CLIError(message: "train failed: \(train.stderr)") }
        if deployed {
            _ = try cli.write("deployment: iris\nroutes: [iris@production]\n", to: "deploy.yaml")
            let apply = try cli.run("deploy", "apply", "deploy.yaml")
            guard apply.ok else { throw CLI.CLIError(message: "deploy apply failed: \(apply.stderr)") }
        }
        return cli
    }

    /// Starts `flywheel server --port 0` and returns it with its port, read from its first line (bounded wait).
    func startServer(_ cli: CLI) async throws -> (Process, Int, URL) {
        let out = cli.cwd.appendingPathComponent("server.out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = cli.process(["server", "--port", "0", "--refresh", "100ms"])
        p.standardOutput = try FileHandle(forWritingTo: out)
        // The log lines, kept for tests that read them (server.err).
        let err = cli.cwd.appendingPathComponent("server.err")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        for _ in 0..<300 {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return (p, port, out) }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        p.terminate()
        throw CLI.CLIError(message: "the server did not say where it listens within 30 s")
    }

    /// POSTs like `curl -d BODY URL`: no content type of our own (curl sends the form type).
    func post(_ url: String, _ body: String, contentType: String = "application/x-www-form-urlencoded") async throws -> (Int, [String: Any], String?) {
        var req = URLRequest(url: try #require(URL(string: url)))
        req.httpMethod = "POST"
        req.setValue(contentType, forHTTPHeaderField: "Content-Type")
        req.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: req)
        let http = try #require(response as? HTTPURLResponse)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (http.statusCode, json, http.value(forHTTPHeaderField: "x-flywheel-version"))
    }

    @Test(.timeLimit(.minutes(3))) func theUserPath() async throws {
        let cli = try CLI.workspace()
        try FileManager.default.copyItem(at: Self.iris, to: cli.cwd.appendingPathComponent("iris.csv"))
        let train = try cli.run("train", "--data", "iris.csv", "--target", "species", "--model", "random_forest", "--param", "n_trees=50",
                                "--register", "iris", "--alias", "production")
        #expect(train.ok, "\(train.stderr)")
        #expect(train.stdout.contains("registered models:/iris/1 as @production"))
        _ = try cli.write("deployment: iris\nroutes: [{model: iris@production}]\n", to: "deploy.yaml")
        let apply = try cli.run("deploy", "apply", "deploy.yaml")
        #expect(apply.ok, "\(apply.stderr)")
        #expect(apply.line == "deployment iris revision 1 applied: iris@production → version 1")
        #expect(try cli.run("deploy", "apply", "deploy.yaml").line.hasPrefix("deployment iris unchanged (revision 1)"))

        let (server, port, _) = try await startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        let body = #"{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}"#
        let (status, answer, version) = try await post("\(base)/predict/iris", body)
        #expect(status == 200)
        #expect(answer["label"] as? String == "virginica")
        #expect(version == "iris/1")
        let firstID = try #require(answer["request_id"] as? String)
        for _ in 0..<5 { _ = try await post("\(base)/predict/iris", body, contentType: "application/json") }
        let (bad, error, _) = try await post("\(base)/predict/iris", #"{"sepal_length":6.7}"#)
        #expect(bad == 400)
        #expect((error["error"] as? [String: Any])?["message"] as? String == "record 0: missing field 'sepal_width' (numeric)")

        // SIGTERM: the server finishes and flushes the prediction log before it exits.
        kill(server.processIdentifier, SIGTERM)
        for _ in 0..<200 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning)
        #expect(server.terminationStatus == 0)
        // Handlers ran on NIO's event loops (EventLoopExecutor), not Swift's cooperative pool.
        let serverLog = try String(contentsOf: cli.cwd.appendingPathComponent("server.err"), encoding: .utf8)
        #expect(serverLog.contains("request handlers run on the event loops"), "\(serverLog.prefix(2000))")
        let logged = try cli.run("logs", "predictions", "--deployment", "iris", "--json")
        #expect(logged.ok, "\(logged.stderr)")
        let lines = logged.stdout.split(separator: "\n")
        #expect(lines.count == 6)

        _ = try cli.write("request_id,label\n\(firstID),virginica\nnot-logged,setosa\n", to: "labels.csv")
        let fb = try cli.run("feedback", "import", "labels.csv")
        #expect(fb.line == "recorded 2 labels; 1 matched a logged prediction")
        let csv = try cli.run("logs", "predictions", "--csv")
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first == "request_id,index,time,deployment,model,version,petal_length,petal_width,sepal_length,sepal_width,prediction,confidence,feedback,latency_us")
        let first = try #require(rows.first { $0.hasPrefix("\(firstID),0,") })
        #expect(first.split(separator: ",", omittingEmptySubsequences: false)[12] == "virginica", "feedback column: \(first)")

        // Batch inference names the model the same way.
        let predict = try cli.run("predict", "--model", "iris@production", "--input", "iris.csv", "--output", "out.csv")
        #expect(predict.ok, "\(predict.stderr)")
        #expect(try String(contentsOf: cli.cwd.appendingPathComponent("out.csv"), encoding: .utf8).split(separator: "\n").count == 151)
    }

    @Test func deployCommandsCheckBeforeTheyApply() throws {
        let cli = try Self.irisWorkspace(deployed: false)
        _ = try cli.write("deployment: iris\nroutes:\n  - {model: iris@production, wieght: 5}\nlog: {sample_rate: 3}\n", to: "bad.yaml")
        let bad = try cli.run("deploy", "apply", "bad.yaml")
        #expect(!bad.ok)
        #expect(bad.stderr.contains("bad.yaml:3:"), "\(bad.stderr)")
        #expect(bad.stderr.contains("unknown key 'wieght' in route (did you mean 'weight'?)"))
        #expect(bad.stderr.contains("bad.yaml:4:") && bad.stderr.contains("'sample_rate' must be between 0 and 1"))
        _ = try cli.write("deployment: iris\nroutes: [iris@staging]\n", to: "unresolved.yaml")
        let unresolved = try cli.run("deploy", "apply", "unresolved.yaml")
        #expect(!unresolved.ok && unresolved.stderr.contains("model 'iris' has no alias 'staging'"))
        #expect((try cli.run("deploy", "list", "--json").json() as? [Any])?.isEmpty == true, "nothing was applied")
        #expect(try cli.run("deploy", "apply", "unresolved.yaml", "--allow-unresolved").ok)
        _ = try cli.write("deployment: iris\nroutes: [{model: iris@production, weight: 90}, {model: iris/1, weight: 10}]\n", to: "canary.yaml")
        #expect(try cli.run("deploy", "apply", "canary.yaml").line.hasPrefix("deployment iris revision 2 applied"))
        let list = try cli.run("deploy", "list")
        #expect(list.stdout.contains("iris@production=1 (90), iris/1=1 (10)"), "\(list.stdout)")
        #expect(try cli.run("deploy", "delete", "iris").line == "deployment iris deleted (revision 3)")
        let history = try cli.run("deploy", "history", "iris", "--json")
        let revisions = try #require(try history.json() as? [[String: Any]])
        #expect(revisions.map { $0["action"] as? String } == ["applied", "applied", "deleted"])
        #expect(!(try cli.run("deploy", "show", "iris")).ok)
    }

    /// The Open Inference Protocol through its reference client (tritonclient's HTTP client).
    @Test(.timeLimit(.minutes(2))) func openInferenceProtocolWithTheRealClient() async throws {
        let cli = try Self.irisWorkspace(deployed: true)
        let (server, port, _) = try await startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (status, stdout, stderr) = try runPython(
            repo.appendingPathComponent(".venv-oip/bin/python"), [repo.appendingPathComponent("scripts/oip_client_check.py").path, "127.0.0.1:\(port)", "iris"],
            venvHint: "tritonclient")
        #expect(status == 0, "\(stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        #expect(seen["live"] as? Bool == true && seen["ready"] as? Bool == true && seen["model_ready"] as? Bool == true)
        let metadata = try #require(seen["metadata"] as? [String: Any])
        #expect((metadata["inputs"] as? [[String: Any]])?.map { $0["name"] as? String } == ["sepal_length", "sepal_width", "petal_length", "petal_width"])
        #expect(metadata["versions"] as? [String] == ["1"])
        // The same rows through /predict give the same labels and probabilities.
        var expected: [String] = []
        var expectedProbabilities: [[Double]] = []
        for row in [[5.0, 3.4, 1.5, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]] {
            let body = "{\"sepal_length\":\(row[0]),\"sepal_width\":\(row[1]),\"petal_length\":\(row[2]),\"petal_width\":\(row[3])}"
            let (_, answer, _) = try await post("http://127.0.0.1:\(port)/predict/iris", body, contentType: "application/json")
            expected.append(try #require(answer["label"] as? String))
            let p = try #require(answer["probabilities"] as? [String: Double])
            expectedProbabilities.append(["setosa", "versicolor", "virginica"].map { p[$0] ?? -1 })
        }
        let perFeature = try #require(seen["per_feature"] as? [String: Any])
        #expect(perFeature["labels"] as? [String] == expected)
        #expect(perFeature["probabilities"] as? [[Double]] == expectedProbabilities)
        #expect(perFeature["id"] as? String == "oip-check-1")
        #expect((seen["matrix"] as? [String: Any])?["labels"] as? [String] == expected)
        let bad = try #require(seen["bad"] as? [String: Any])
        #expect(bad["status"] as? String == "400")
        #expect((bad["message"] as? String)?.contains("datatype BYTES does not fit field 'petal_width'") == true)
        kill(server.processIdentifier, SIGTERM)
    }

    /// `labels sample` draws unlabelled predictions stratified by predicted class, and the file
    /// comes back through `feedback import`.
    @Test(.timeLimit(.minutes(2))) func labelsSampleRoundTripsThroughFeedback() async throws {
        let cli = try Self.irisWorkspace(deployed: true)
        let (server, port, _) = try await startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        // 30 setosa-like and 10 virginica-like requests.
        for i in 0..<40 {
            let body = i < 30
                ? #"{"sepal_length":5.0,"sepal_width":3.4,"petal_length":1.5,"petal_width":0.2}"#
                : #"{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}"#
            _ = try await post("http://127.0.0.1:\(port)/predict/iris", body, contentType: "application/json")
        }
        kill(server.processIdentifier, SIGTERM)
        for _ in 0..<200 where server.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let sample = try cli.run("labels", "sample", "--deployment", "iris", "--since", "1h", "-n", "8", "--out", "to_label.csv")
        #expect(sample.ok, "\(sample.stderr)")
        #expect(sample.line.hasSuffix("setosa 6, virginica 2"), "\(sample.line)")
        let lines = try String(contentsOf: cli.cwd.appendingPathComponent("to_label.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "request_id,index,time,petal_length,petal_width,sepal_length,sepal_width,prediction,label")
        #expect(lines.count == 9)
        // The same seed draws the same rows.
        #expect(try cli.run("labels", "sample", "--deployment", "iris", "-n", "8", "--out", "again.csv").ok)
        #expect(try String(contentsOf: cli.cwd.appendingPathComponent("again.csv"), encoding: .utf8) == lines.joined(separator: "\n") + "\n")
        // Fill in the labels (the prediction) and import: all match; a second draw skips them.
        let labelled = lines.enumerated().map { i, l in i == 0 ? String(l) : String(l) + String(l.split(separator: ",")[7]) }
        _ = try cli.write(labelled.joined(separator: "\n") + "\n", to: "labelled.csv")
        #expect(try cli.run("feedback", "import", "labelled.csv").line == "recorded 8 labels; 8 matched a logged prediction")
        let next = try cli.run("labels", "sample", "--deployment", "iris", "-n", "100", "--out", "next.csv")
        #expect(next.line.hasPrefix("wrote 32 of 32 predictions"), "\(next.line)")
        let none = try cli.run("labels", "sample", "--deployment", "other", "--out", "x.csv")
        #expect(!none.ok && none.stderr.contains("no unlabelled predictions of 'other'"))
    }
}
