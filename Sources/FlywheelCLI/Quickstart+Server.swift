import FlywheelCore
import FlywheelServer
import Foundation
import Logging
import NIOCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The quickstart's server: the real `ServingApplication` on a loopback port in this process,
/// and a client that talks to it over HTTP as any caller would.
final class QuickstartServer: @unchecked Sendable {
    let app: ServingApplication
    let port: Int
    private let task: Task<Void, any Error>
    let session = URLSession(configuration: .ephemeral)

    var url: String { "http://127.0.0.1:\(port)" }

    private init(app: ServingApplication, port: Int, task: Task<Void, any Error>) {
        self.app = app
        self.port = port
        self.task = task
    }

    /// Starts the server (port 0: any free one) and waits, bounded, until it listens.
    static func start(_ ws: Workspace, port: Int) async throws -> QuickstartServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "flywheel.quickstart") { LineLogHandler(label: $0) }
        logger.logLevel = .critical
        let app = ServingApplication(
            configuration: ServerConfiguration(host: "127.0.0.1", port: port, refreshInterval: .milliseconds(100), version: FlywheelCommand.version),
            store: ws.store, blobs: ws.blobs, logger: logger
        ) { channel in continuation.yield(channel.localAddress?.port ?? 0) }
        let task = Task {
            // However the server ends, the wait below ends with it (with the real error).
            defer { continuation.finish() }
            try await app.run()
        }
        let bound: Int? = await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                for await p in ports { return p }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let bound, bound > 0 else {
            task.cancel()
            if case .failure(let error) = await task.result {
                throw FlywheelError(.unavailable, "the server could not start on port \(port): \(error)")
            }
            throw FlywheelError(.unavailable, "the server did not start listening within 30 s")
        }
        let server = QuickstartServer(app: app, port: bound, task: task)
        ws.recordServer(url: server.url)
        return server
    }

    /// Stops accepting, finishes what is in flight and flushes the prediction log.
    func stop(_ ws: Workspace) async {
        task.cancel()
        _ = try? await task.value
        ws.clearServer()
    }

    /// Waits (bounded) until `path` answers 200.
    func waitFor(_ path: String, seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let (status, _) = try? await request("GET", path), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FlywheelError(.unavailable, "\(url)\(path) did not answer 200 within \(Int(seconds)) s")
    }

    func request(_ method: String, _ path: String, json body: JSONValue? = nil, headers: [String: String] = [:]) async throws -> (Int, JSONValue) {
        var req = URLRequest(url: URL(string: url + path)!)  // invariant: a loopback URL and a fixed path
        req.httpMethod = method
        for (name, value) in headers { req.setValue(value, forHTTPHeaderField: name) }
        if let body {
            req.httpBody = Data(try JSONEncoder().encode(body))
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        // A completion handler rather than URLSession's async method: on Linux, cancelling a task
        // that awaits the async method (as a task group does when a sibling fails) can deadlock
        // FoundationNetworking.
        let (data, status): (Data, Int) = try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: req) { data, response, error in
                if let error { return continuation.resume(throwing: FlywheelError(.unavailable, "\(method) \(path): \(error.localizedDescription)")) }
                continuation.resume(returning: (data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
            }.resume()
        }
        return (status, (try? JSONValue(parsing: data)) ?? .null)
    }

    static func text(_ v: JSONValue) -> String {
        (try? JSONEncoder().encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
    }

    struct Answer: Sendable {
        var requestID: String
        var version: Int
        var label: String
        var truth: String
    }

    /// Sends each customer as one request to /predict/churn, `concurrency` at a time; returns the answers in order.
    func predict(_ customers: [ChurnWorld.Customer], concurrency: Int = 8) async throws -> [Answer] {
        var answers = [Answer?](repeating: nil, count: customers.count)
        try await withThrowingTaskGroup(of: (Int, Answer).self) { group in
            var next = 0
            func submit() {
                guard next < customers.count else { return }
                let i = next, c = customers[i]
                next += 1
                group.addTask {
                    let (status, out) = try await self.request("POST", "/predict/churn", json: .object(c.record), headers: ["x-customer-id": c.key, "x-request-id": c.key])
                    guard status == 200, case .string(let id)? = out["request_id"], case .string(let label)? = out["label"],
                          case .number(let v)? = out["version"] else {
                        throw FlywheelError(.unavailable, "POST /predict/churn answered \(status): \(Self.text(out))")
                    }
                    return (i, Answer(requestID: id, version: Int(v), label: label, truth: c.churn))
                }
            }
            for _ in 0..<concurrency { submit() }
            while let (i, a) = try await group.next() {
                answers[i] = a
                submit()
            }
        }
        return answers.compactMap { $0 }
    }

    /// Sends the true labels of every `every`-th answer (by index) as feedback; returns how many.
    @discardableResult
    func feedback(_ answers: [Answer], share: Double) async throws -> Int {
        let chosen = answers.enumerated().filter { i, _ in Double(i % 100) < share * 100 }.map(\.element)
        for chunk in stride(from: 0, to: chosen.count, by: 200) {
            let items = chosen[chunk..<min(chunk + 200, chosen.count)].map {
                JSONValue.object(["request_id": .string($0.requestID), "label": .string($0.truth)])
            }
            let (status, out) = try await request("POST", "/api/v1/feedback", json: .array(Array(items)))
            guard status == 200 else { throw FlywheelError(.unavailable, "POST /api/v1/feedback answered \(status): \(Self.text(out))") }
        }
        return chosen.count
    }
}
