import FlywheelCore
import FlywheelServer
import FlywheelServing
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import Logging
import Testing

/// Runs a `ServingApplication` on a free loopback port for the length of a test and talks to it
/// over real HTTP (URLSession), so the tests exercise the same server a user runs. (Hummingbird's
/// own test client would pull async-http-client and BoringSSL into the build for nothing.)
enum LiveServer {
    struct Response: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer
    }

    struct Client: Sendable {
        let port: Int
        let session: URLSession

        /// Sends a request and hands the response to `check`.
        @discardableResult
        func execute<T>(
            uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
            _ check: (Response) async throws -> T = { _ in () }
        ) async throws -> T {
            var req = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(uri)")))
            req.httpMethod = method.rawValue
            for field in headers { req.setValue(field.value, forHTTPHeaderField: field.name.rawName) }
            if let body { req.httpBody = Data(body.readableBytesView) }
            let (data, response) = try await session.data(for: req)
            let http = try #require(response as? HTTPURLResponse)
            var fields = HTTPFields()
            for (k, v) in http.allHeaderFields {
                if let key = k as? String, let name = HTTPField.Name(key), let value = v as? String { fields[name] = value }
            }
            return try await check(Response(status: .init(code: http.statusCode), headers: fields, body: ByteBuffer(bytes: data)))
        }
    }

    /// Builds the app on port 0, waits until it listens (bounded), runs `body`, then stops it.
    static func with<T: Sendable>(
        _ f: ServingFixture, configuration: ServerConfiguration = ServerConfiguration(),
        _ body: @Sendable (ServingApplication, Client) async throws -> T
    ) async throws -> T {
        var config = configuration
        config.port = 0
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        // Quiet: closing the keep-alive connections at the end is logged as an error otherwise.
        var logger = Logger(label: "flywheel.test-server")
        logger.logLevel = .critical
        let app = ServingApplication(configuration: config, store: f.store, blobs: f.blobs, logger: logger) { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
        }
        await app.runtime.refresh()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.application.run()
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                throw FlywheelError.internal("the test server did not start within 30 s")
            }
            var port = 0
            for await p in ports {
                port = p
                break
            }
            let session = URLSession(configuration: .ephemeral)
            defer { group.cancelAll() }
            return try await body(app, Client(port: port, session: session))
        }
    }
}
