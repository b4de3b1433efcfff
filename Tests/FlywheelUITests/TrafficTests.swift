import FlywheelCore
import FlywheelServing
import FlywheelTesting
import Foundation
import Testing

@testable import FlywheelUI

struct FixedClock: WallClock {
    let time: Timestamp
    func now() -> Timestamp { time }
}

/// The server's own minute-by-minute traffic, and the deployment page that draws it.
@Suite struct TrafficTests {
    /// 2026-05-28 20:00 UTC, on a minute boundary.
    let t0 = Date(timeIntervalSince1970: 1_780_000_800)

    @Test func quantilesFromTheHistogramAreWithinItsStatedError() {
        let history = TrafficHistory()
        // Latencies spread over four orders of magnitude, deterministic.
        var exact: [Double] = []
        var x: UInt64 = 42
        for _ in 0..<20_000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let u = Double(x >> 11) / Double(1 << 53)
            let seconds = 1e-5 * pow(10, u * 4)
            exact.append(seconds)
            history.record(deployment: "d", version: "1", status: 200, nanoseconds: Int64(seconds * 1e9), at: t0)
        }
        exact.sort()
        let minutes = history.series(deployment: "d", now: t0)["1"]!
        #expect(minutes.count == 1 && minutes[0].requests == 20_000)
        for q in [0.5, 0.9, 0.95, 0.99] {
            let truth = exact[Int((q * Double(exact.count)).rounded(.up)) - 1]
            let got = TrafficHistory.Minute.quantile(q, of: minutes)!
            #expect(abs(got / truth - 1) < 0.1, "q\(q): \(got) vs \(truth)")
        }
    }

    @Test func minutesRollOffAndErrorsAreCountedByKind() {
        let history = TrafficHistory(minutes: 10)
        for m in 0..<30 {
            let at = t0.addingTimeInterval(Double(m) * 60 + 5)
            history.record(deployment: "d", version: "1", status: 200, nanoseconds: 1_000_000, at: at)
            history.record(deployment: "d", version: "1", status: m % 2 == 0 ? 503 : 422, nanoseconds: 1_000_000, at: at)
        }
        history.record(deployment: "other", version: "1", status: 200, nanoseconds: 1, at: t0)
        let now = t0.addingTimeInterval(29 * 60 + 30)
        let kept = history.series(deployment: "d", now: now)["1"]!
        #expect(kept.map(\.minute) == Array((20..<30).map { Int64(t0.timeIntervalSince1970 / 60) + Int64($0) }))
        #expect(kept.reduce(0) { $0 + $1.requests } == 20)
        #expect(kept.reduce(0) { $0 + $1.serverErrors } == 5 && kept.reduce(0) { $0 + $1.clientErrors } == 5)
        // Ten minutes later nothing of the window is left.
        #expect(history.series(deployment: "d", now: now.addingTimeInterval(600)).isEmpty)
    }

    @Test func theDeploymentPageShowsRateErrorsAndLatencyPerVersion() async throws {
        let s = try await Seeded(runCount: 2, historyPoints: 1)
        let at = Timestamp(millisecondsSince1970: Int64(t0.timeIntervalSince1970 * 1000))
        _ = try await s.store.applyDeployment(name: "churn", spec: "deployment: churn\nroutes: [churn@production]\n", actor: "ana", at: at)
        let history = TrafficHistory()
        // Version 1: 600 requests over the last 10 minutes at 2 ms, 6 of them 5xx; version 2: 60 at 20 ms.
        for i in 0..<600 {
            let when = t0.addingTimeInterval(-Double(i))
            history.record(deployment: "churn", version: "1", status: i % 100 == 0 ? 500 : 200, nanoseconds: 2_000_000, at: when)
            if i % 10 == 0 { history.record(deployment: "churn", version: "2", status: 200, nanoseconds: 20_000_000, at: when) }
        }
        let now = Timestamp(millisecondsSince1970: at.millisecondsSince1970 + 30_000)
        let ui = WebUI(store: s.store, blobs: s.blobs, clock: FixedClock(time: now), traffic: history)
        let page = await ui.respond(to: UIRequest(target: "/deployments/churn?minutes=15"))
        #expect(page.status == 200)
        let text = page.text
        let row1 = try #require(Self.row(text, "v1")), row2 = try #require(Self.row(text, "v2"))
        // Requests, per second over 15 minutes, 4xx, 5xx, error rate, p50, p95.
        #expect(row1[0] == "600" && row1[1] == "0.67" && row1[2] == "0" && row1[3] == "6" && row1[4] == "1.00%")
        #expect(row2[0] == "60" && row2[3] == "0")
        // 2 ms and 20 ms come back within the histogram's 9%.
        #expect(Self.milliseconds(row1[5]).map { abs($0 / 2 - 1) < 0.09 } == true)
        #expect(Self.milliseconds(row2[6]).map { abs($0 / 20 - 1) < 0.09 } == true)
        #expect(text.contains("aria-label=\"requests per second\"") && text.contains("aria-label=\"p95 latency (ms)\""))
        #expect(text.contains("<b>15 min</b>"))
        // The request-rate chart spans the whole window: a point per minute per version, idle
        // minutes at 0 (15 minutes × 2 versions).
        let rate = try #require(text.range(of: "aria-label=\"requests per second\"").map { text[$0.upperBound...] })
        let rateSVG = rate[..<rate.range(of: "</svg>")!.lowerBound]
        #expect(rateSVG.components(separatedBy: "<circle").count - 1 == 30)
        // Without traffic in the window, the page says so instead of drawing empty charts.
        let quiet = WebUI(store: s.store, blobs: s.blobs, clock: FixedClock(time: now), traffic: TrafficHistory())
        #expect(await quiet.respond(to: UIRequest(target: "/deployments/churn")).text.contains("no requests in this window"))
    }

    /// The cells after the version cell of the row that starts with `version`.
    static func row(_ html: String, _ version: String) -> [String]? {
        guard let start = html.range(of: "<tr><td>\(version)</td>") else { return nil }
        let end = html.range(of: "</tr>", range: start.upperBound..<html.endIndex)!.lowerBound
        return html[start.upperBound..<end].components(separatedBy: "</td>").dropLast().map {
            String($0.split(separator: ">", omittingEmptySubsequences: false).last ?? "")
        }
    }

    static func milliseconds(_ cell: String) -> Double? {
        cell.hasSuffix(" ms") ? Double(cell.dropLast(3)) : nil
    }
}
