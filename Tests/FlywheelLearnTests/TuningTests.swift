import FlywheelCore
import FlywheelLearn
import Foundation
import Testing

@Suite struct TuningTests {
    let space = try! SearchSpace([
        ("x", .real(low: -5, high: 5, log: false)),
        ("lr", .real(low: 1e-4, high: 1, log: true)),
        ("depth", .int(low: 1, high: 12, log: false)),
        ("kind", .choice([.string("a"), .string("b"), .string("c")])),
    ])

    /// A smooth objective with its minimum at x = 1.3, lr = 0.01, depth = 7, kind = b.
    func objective(_ p: [String: ParamValue]) -> Double {
        let x = p["x"]?.doubleValue ?? 0, lr = p["lr"]?.doubleValue ?? 1, d = p["depth"]?.doubleValue ?? 0
        let k: Double = p["kind"] == .string("b") ? 0 : 1
        return pow(x - 1.3, 2) + pow(log10(lr) + 2, 2) + pow((d - 7) / 3, 2) + k
    }

    @Test func gridEnumeratesEveryCombination() throws {
        let s = try SearchSpace([("a", .choice([.int(1), .int(2)])), ("b", .int(low: 0, high: 2, log: false))])
        let g = try s.grid()
        #expect(g.count == 6)
        #expect(Set(g.map { "\($0["a"]!)-\($0["b"]!)" }) == ["1-0", "1-1", "1-2", "2-0", "2-1", "2-2"])
        let e = #expect(throws: FlywheelError.self) { try space.grid() }
        #expect(e?.message.contains("'x'") == true)
        let trials = try Tuner(space: s, strategy: .grid, trials: 100, seed: 1).run { _, p in p["b"]?.doubleValue ?? 0 }
        #expect(trials.count == 6)
    }

    @Test func randomStaysInBoundsAndRepeatsForASeed() throws {
        let a = try Tuner(space: space, strategy: .random, trials: 200, seed: 9).run { _, p in objective(p) }
        let b = try Tuner(space: space, strategy: .random, trials: 200, seed: 9).run { _, p in objective(p) }
        #expect(a == b)
        for t in a {
            let x = try #require(t.params["x"]?.doubleValue), lr = try #require(t.params["lr"]?.doubleValue)
            #expect((-5...5).contains(x) && (1e-4...1).contains(lr))
            guard case .int(let d) = t.params["depth"] else { Issue.record("depth not int"); continue }
            #expect((1...12).contains(d))
        }
        // Log-uniform: about half the draws of lr fall below 1e-2 (the log-midpoint).
        let below = a.filter { ($0.params["lr"]?.doubleValue ?? 1) < 1e-2 }.count
        #expect(below > 70 && below < 130)
    }

    /// With the same budget, TPE's best loss beats random search's on average over seeds.
    @Test func bayesBeatsRandomOnASmoothObjective() throws {
        var tpe = 0.0, random = 0.0
        for seed in UInt64(1)...8 {
            tpe += try Tuner(space: space, strategy: .bayes, trials: 40, seed: seed).run { _, p in objective(p) }.map(\.loss).min() ?? .infinity
            random += try Tuner(space: space, strategy: .random, trials: 40, seed: seed).run { _, p in objective(p) }.map(\.loss).min() ?? .infinity
        }
        #expect(tpe < random * 0.7, "TPE mean best \(tpe / 8), random \(random / 8)")
    }
}
