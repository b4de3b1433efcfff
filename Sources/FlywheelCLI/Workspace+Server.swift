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
        // Signal 0 checks the process exists, and something must listen on the port: a stale
        // file from a killed server (whose pid may since name another process) is ignored.
        guard kill(r.pid, 0) == 0, let url = URL(string: r.url), let port = url.port, Self.listening(host: url.host ?? "127.0.0.1", port: port) else { return nil }
        return r.url
    }

    /// Whether a TCP connection to `host` (an IPv4 address; anything else means 127.0.0.1) and
    /// `port` is accepted. The server's own address answers at once.
    static func listening(host: String, port: Int) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // A connect that gets no answer gives up after half a second (SO_SNDTIMEO bounds connect).
        var timeout = timeval(tv_sec: 0, tv_usec: 500_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        let ip = inet_addr(host)
        address.sin_addr.s_addr = ip == INADDR_NONE ? inet_addr("127.0.0.1") : ip
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    /// Environment for pipeline steps: `MLFLOW_TRACKING_URI` when a server serves the workspace
    /// and the caller did not set one, so a step's `mlflow` logs into its run here.
    func pipelineEnvironment() -> [String: String] {
        guard ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"] == nil, let url = servingURL() else { return [:] }
        return ["MLFLOW_TRACKING_URI": url]
    }
}
