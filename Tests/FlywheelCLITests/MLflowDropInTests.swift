import FlywheelCore
import FlywheelStore
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Flywheel as a drop-in for MLflow 3: `scripts/mlflow_dropin_check.py` walks what the real
/// `mlflow` client does — logged models and every way of loading them, run deletion, datasets,
/// the rest of the registry, plain endpoints, autologging, error codes and shapes — against
/// `flywheel server` and against `mlflow server` from the same venv (.venv-mlflow-full, made by
/// scripts/test.sh), at the same time, and the two answers must agree key by key, save where
/// docs/mlflow.md says Flywheel differs on purpose.
@Suite(.serialized) struct MLflowDropInTests {
    static let repo = MLflowCLITests.repo
    static let venv = repo.appendingPathComponent(".venv-mlflow-full/bin")
    static let script = repo.appendingPathComponent("scripts/mlflow_dropin_check.py")

    @Test(.timeLimit(.minutes(8))) func theMLflowClientSeesWhatMLflowsServerWouldShow() async throws {
        let python = Self.venv.appendingPathComponent("python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw CLI.CLIError(message: "no \(python.path): run ./scripts/test.sh, which makes the venv with mlflow, scikit-learn and pandas")
        }
        let cli = try CLI.workspace()
        let (server, port, _) = try await ServingCLITests().startServer(cli)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let reference = try await MLflowServer.start(venv: Self.venv)
        defer { reference.stop() }

        // Both walks at once: each server is fresh, and the script counts only what it made.
        let env = ["MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"]
        let oursDir = cli.cwd.appendingPathComponent("client-flywheel"), theirsDir = cli.cwd.appendingPathComponent("client-mlflow")
        async let ours = PythonRun.start(python, [Self.script.path, "http://127.0.0.1:\(port)", oursDir.path], env: env).finish()
        async let theirs = PythonRun.start(python, [Self.script.path, reference.url, theirsDir.path], env: env).finish()
        let (f, m) = try await (ours, theirs)
        #expect(f.status == 0, "flywheel walk failed:\n\(f.stderr.suffix(4000))")
        #expect(m.status == 0, "mlflow walk failed:\n\(m.stderr.suffix(4000))")
        let fw = try f.lastJSON(), ml = try m.lastJSON()
        #expect(fw["failed"] as? [String] == [], "\(fw["failed"] ?? "")")

        // Every section agrees with MLflow's server, but for what differs on purpose:
        // - genai: tracing is out of scope here (404 ENDPOINT_NOT_FOUND), MLflow offers it;
        // - beyond_mlflow: registry page tokens that survive rows added before the cursor, which
        //   MLflow's offset tokens do not (checked below, on Flywheel alone);
        // - reg_stages.steps: a stage holds one version here, as an alias does (checked below).
        let ignored: Set<String> = ["genai", "beyond_mlflow", "failed", "reg_stages"]
        for key in Set(fw.keys).union(ml.keys).subtracting(ignored).sorted() {
            #expect(JSONText.canonical(fw[key]) == JSONText.canonical(ml[key]), "\(key) differs")
        }
        let fwStages = try #require(fw["reg_stages"] as? [String: Any]), mlStages = try #require(ml["reg_stages"] as? [String: Any])
        for key in Set(fwStages.keys).union(mlStages.keys).subtracting(["steps"]).sorted() {
            #expect(JSONText.canonical(fwStages[key]) == JSONText.canonical(mlStages[key]), "reg_stages.\(key) differs")
        }
        let fwSteps = try #require(fwStages["steps"] as? [[String: Any]]), mlSteps = try #require(mlStages["steps"] as? [[String: Any]])
        #expect(fwSteps.count == 6 && mlSteps.count == 6)
        for i in [0, 1, 2, 5] where i < min(fwSteps.count, mlSteps.count) {
            #expect(JSONText.canonical(fwSteps[i]) == JSONText.canonical(mlSteps[i]), "stage step \(i + 1) differs")
        }
        // Moving version 1 to Production takes the alias (and so the stage) off version 3; with
        // archive_existing_versions the version that held it is archived.
        if fwSteps.count == 6 {
            #expect(fwSteps[3]["stages"] as? [String: String] == ["1": "Production", "2": "Staging", "3": "None"])
            #expect(fwSteps[4]["stages"] as? [String: String] == ["1": "Archived", "2": "Production", "3": "None"])
        }
        let paging = try #require((fw["beyond_mlflow"] as? [String: Any])?["reg_paging_insert_before"] as? [String: Any])
        #expect(paging["duplicates"] as? [String] == [] && paging["skipped"] as? [String] == [])
        #expect((paging["existing"] as? Int ?? 0) > 2 * 2, "the walk must page more than twice")
        let genai = try #require(fw["genai"] as? [String: Any])
        #expect((genai["traces_post"] as? [String: Any])?["error_code"] as? String == "ENDPOINT_NOT_FOUND")
        #expect((genai["traces_post"] as? [String: Any])?["status"] as? Int == 404)

        // What the client registered is Flywheel's registry: versions with their lineage to the
        // run through the logged model, in `models show` and `lineage show`.
        let shown = try cli.run("models", "show", "dropin-sk")
        #expect(shown.ok && shown.stdout.contains("@champion set to 1") && shown.stdout.contains("models:/m-"), "\(shown.stdout)")
        let lineage = try cli.run("lineage", "show", "models:/dropin-sk/1")
        #expect(lineage.stdout.contains("<-[registered]- logged_model:m-") && lineage.stdout.contains("<-[produced]- run:"), "\(lineage.stdout)")
        let auto = try cli.run("models", "show", "dropin-auto")
        #expect(auto.ok && auto.stdout.contains("models:/m-"), "\(auto.stdout)")

        // A version whose flavor needs Python is refused when deployed, naming its flavors.
        _ = try cli.write("deployment: sk\nroutes: [{model: dropin-sk/1}]\n", to: "deploy.yaml")
        let refused = try cli.run("deploy", "apply", "deploy.yaml")
        #expect(!refused.ok)
        #expect(refused.stderr.contains("flavors python_function, sklearn") && refused.stderr.contains("flywheel train"), "\(refused.stderr)")
        let store = try SQLiteMetadataStore(path: cli.cwd.appendingPathComponent(".flywheel/flywheel.db").path)
        #expect(try await store.deployment(named: "sk") == nil)
    }
}

/// `mlflow server` from a venv: SQLite in a temporary folder, artifacts served through it,
/// loopback on a free port, no background job runner. Foundation starts a child in a process
/// group of its own, so stopping the group stops the server's workers too.
struct MLflowServer {
    let process: Process
    let url: String

    static func start(venv: URL) async throws -> MLflowServer {
        let dir = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: FileManager.default.temporaryDirectory, create: true)
        let port = try FreePort.find()
        let p = Process()
        p.executableURL = venv.appendingPathComponent("mlflow")
        p.arguments = [
            "server", "--backend-store-uri", "sqlite:///\(dir.path)/mlflow.db",
            "--serve-artifacts", "--artifacts-destination", dir.appendingPathComponent("artifacts").path,
            "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
        ]
        var env = ProcessInfo.processInfo.environment
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        p.environment = env
        let log = dir.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = try FileHandle(forWritingTo: log)
        try p.run()
        let server = MLflowServer(process: p, url: "http://127.0.0.1:\(port)")
        // The first start migrates its database: allow it two minutes on a busy machine.
        for _ in 0..<1200 {
            if !p.isRunning { break }
            if let (_, response) = try? await URLSession(configuration: .ephemeral).data(from: try #require(URL(string: server.url + "/health"))),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return server
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw CLI.CLIError(message: "mlflow server did not answer /health within 120 s:\n\((try? String(contentsOf: log, encoding: .utf8))?.suffix(3000) ?? "")")
    }

    func stop() {
        let group = process.processIdentifier
        kill(-group, SIGTERM)
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        kill(-group, SIGKILL)  // workers that outlived the server
    }
}

/// A Python process started without blocking, awaited by polling (so two can run at once
/// without tying up threads of the test's pool).
struct PythonRun {
    let process: Process
    let out: URL
    let err: URL

    static func start(_ python: URL, _ args: [String], env: [String: String]) throws -> PythonRun {
        let p = Process()
        p.executableURL = python
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("py-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("py-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        return PythonRun(process: p, out: out, err: err)
    }

    struct Finished: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The JSON object on the last line of stdout.
        func lastJSON() throws -> [String: Any] {
            let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw CLI.CLIError(message: "the last line is not a JSON object: \(line.prefix(300))\n\(stderr.suffix(3000))")
            }
            return o
        }
    }

    func finish() async throws -> Finished {
        while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return Finished(
            status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// A free loopback port, found by binding port 0.
enum FreePort {
    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLI.CLIError(message: "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw CLI.CLIError(message: "could not bind a loopback port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// JSON values as canonical text (sorted keys), so two parsed documents compare exactly.
enum JSONText {
    static func canonical(_ v: Any?) -> String {
        guard let v else { return "null" }
        guard let data = try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys, .fragmentsAllowed]) else { return "\(v)" }
        return String(decoding: data, as: UTF8.self)
    }
}
