import FlywheelCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `.flywheel/server.json`: where a running `flywheel server` serves this workspace, so pipeline
/// steps started here can log through its MLflow API (`MLFLOW_TRACKING_URI`).
extension Workspace {
    struct ServerRecord: Codable {
        var url: String
        var pid: Int32
    }

    var serverFile: URL { Self.dotFolder(root).appendingPathComponent("server.json") }

    /// Records that this process serves the workspace at `url`.
    func recordServer(url: String) {
        let record = ServerRecord(url: url, pid: getpid())
        if let data = try? JSONEncoder().encode(record) { try? data.write(to: serverFile, options: .atomic) }
    }

    /// Forgets the record, if it is this process's.
    func clearServer() {
        guard let data = try? Data(contentsOf: serverFile), let r = try? JSONDecoder().decode(ServerRecord.self, from: data), r.pid == getpid() else { return }
        try? FileManager.default.removeItem(at: serverFile)
    }

    /// The URL of a server serving this workspace now (its process is alive), if any.
    func servingURL() -> String? {
        guard let data = try? Data(contentsOf: serverFile), let r = try? JSONDecoder().decode(ServerRecord.self, from: data) else { return nil }
        // Signal 0 checks the process exists; a stale file from a killed server is ignored.
        return kill(r.pid, 0) == 0 ? r.url : nil
    }

    /// Environment for pipeline steps: `MLFLOW_TRACKING_URI` when a server serves the workspace
    /// and the caller did not set one, so a step's `mlflow` logs into its run here.
    func pipelineEnvironment() -> [String: String] {
        guard ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"] == nil, let url = servingURL() else { return [:] }
        return ["MLFLOW_TRACKING_URI": url]
    }
}
