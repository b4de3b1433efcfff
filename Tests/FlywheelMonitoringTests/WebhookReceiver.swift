import FlywheelCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// A real HTTP server on a free loopback port that records every POST body it gets and answers
/// with the statuses it was told to, in order (then 200), so webhook retries can be observed.
actor WebhookReceiver {
    private(set) var bodies: [Data] = []
    private var statuses: [Int]

    init(statuses: [Int] = []) { self.statuses = statuses }

    func receive(_ body: Data) -> Int {
        bodies.append(body)
        return statuses.isEmpty ? 200 : statuses.removeFirst()
    }

    /// Runs the server for the length of `body`, passing the hook's URL.
    static func with<T: Sendable>(statuses: [Int] = [], _ body: @Sendable (WebhookReceiver, String) async throws -> T) async throws -> T {
        let receiver = WebhookReceiver(statuses: statuses)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let status = await receiver.receive(Data(buffer.readableBytesView))
            return Response(status: .init(code: status))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "flywheel.test-webhook")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService()
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                throw FlywheelError.internal("the webhook receiver did not start within 30 s")
            }
            var port = 0
            for await p in ports {
                port = p
                break
            }
            defer { group.cancelAll() }
            return try await body(receiver, "http://127.0.0.1:\(port)/hook")
        }
    }
}
