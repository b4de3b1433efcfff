import FlywheelCore
import Foundation

/// How to pick the next trial.
public enum SearchStrategy: String, Hashable, Codable, Sendable, CaseIterable {
    /// Every combination of the grid, in order.
    case grid
    /// Independent uniform draws.
    case random
    /// Tree-structured Parzen estimators: after `startup` random trials, draw candidates from a
    /// density fitted to the best quarter of trials and keep the one most likely under it relative
    /// to the rest.
    case bayes
}

/// One evaluated trial.
public struct Trial: Hashable, Codable, Sendable {
    public var index: Int
    public var params: [String: ParamValue]
    /// The objective, lower is better (the tuner minimises; pass −accuracy to maximise).
    public var loss: Double
}

/// Runs a search: asks the objective for each trial's loss and keeps the history.
public struct Tuner: Sendable {
    public var space: SearchSpace
    public var strategy: SearchStrategy
    public var trials: Int
    public var seed: UInt64
    /// Random trials before TPE takes over.
    public var startupTrials = 8
    /// Candidates TPE scores per parameter per trial.
    public var candidates = 24
    /// Share of trials TPE treats as good.
    public var gamma = 0.25

    public init(space: SearchSpace, strategy: SearchStrategy, trials: Int, seed: UInt64) {
        self.space = space
        self.strategy = strategy
        self.trials = trials
        self.seed = seed
    }

    /// Evaluates trials in order; `objective` gets the trial index and params. Returns all trials.
    public func run(_ objective: (Int, [String: ParamValue]) throws -> Double) throws -> [Trial] {
        var history: [Trial] = []
        var rng = SeededRandom(seed: seed)
        let planned: [[String: ParamValue]]? = strategy == .grid ? try space.grid() : nil
        let count = planned.map { min($0.count, trials) } ?? trials
        for i in 0..<count {
            let params: [String: ParamValue]
            switch strategy {
            case .grid: params = planned?[i] ?? [:]
            case .random: params = space.sample(&rng)
            case .bayes: params = history.count < startupTrials ? space.sample(&rng) : suggest(history, &rng)
            }
            let loss = try objective(i, params)
            history.append(Trial(index: i, params: params, loss: loss.isNaN ? .infinity : loss))
        }
        return history
    }

    /// The TPE suggestion, one parameter at a time (parameters treated as independent).
    func suggest(_ history: [Trial], _ rng: inout SeededRandom) -> [String: ParamValue] {
        let sorted = history.sorted { $0.loss < $1.loss }
        let nGood = max(1, Int((gamma * Double(sorted.count)).rounded(.up)))
        let good = Array(sorted.prefix(nGood)), bad = Array(sorted.dropFirst(nGood))
        var out: [String: ParamValue] = [:]
        for (name, domain) in zip(space.names, space.domains) {
            switch domain {
            case .choice(let values):
                // Smoothed category frequencies; pick the best ratio among drawn candidates.
                func weights(_ ts: [Trial]) -> [Double] {
                    values.map { v in (Double(ts.filter { $0.params[name] == v }.count) + 1) / (Double(ts.count) + Double(values.count)) }
                }
                let l = weights(good), g = weights(bad)
                var best = 0, bestScore = -Double.infinity
                for _ in 0..<candidates {
                    let c = Self.drawIndex(l, &rng)
                    let score = log(l[c]) - log(g[c])
                    if score > bestScore { bestScore = score; best = c }
                }
                out[name] = values[best]
            case .int(let lo, let hi, let isLog):
                let x = numeric(name, Double(lo) - 0.5, Double(hi) + 0.5, isLog && lo >= 1, good, bad, &rng)
                out[name] = .int(min(hi, max(lo, Int(x.rounded()))))
            case .real(let lo, let hi, let isLog):
                out[name] = .real(min(hi, max(lo, numeric(name, lo, hi, isLog, good, bad, &rng))))
            }
        }
        return out
    }

    static func drawIndex(_ w: [Double], _ rng: inout SeededRandom) -> Int {
        var u = rng.unit() * w.reduce(0, +)
        for (i, x) in w.enumerated() {
            u -= x
            if u < 0 { return i }
        }
        return w.count - 1
    }

    /// Parzen estimators over the (log-)interval: a Gaussian at each observation with a bandwidth
    /// from its neighbours' distance, plus a flat prior; candidates come from the good density.
    func numeric(
        _ name: String, _ lo: Double, _ hi: Double, _ isLog: Bool, _ good: [Trial], _ bad: [Trial], _ rng: inout SeededRandom
    ) -> Double {
        let f: (Double) -> Double = isLog ? { log(max($0, 1e-300)) } : { $0 }
        let finv: (Double) -> Double = isLog ? { exp($0) } : { $0 }
        let a = f(max(lo, isLog ? 1e-300 : lo)), b = f(hi)
        let width = max(b - a, 1e-12)
        func points(_ ts: [Trial]) -> [Double] { ts.compactMap { $0.params[name]?.doubleValue }.map(f).sorted() }
        func kernels(_ xs: [Double]) -> [(Double, Double)] {
            xs.enumerated().map { i, x in
                let left = i > 0 ? x - xs[i - 1] : x - a
                let right = i + 1 < xs.count ? xs[i + 1] - x : b - x
                let sigma = min(max(max(left, right), width / Double(min(100, xs.count + 1))), width)
                return (x, sigma)
            }
        }
        let kg = kernels(points(good)), kb = kernels(points(bad))
        func density(_ x: Double, _ ks: [(Double, Double)]) -> Double {
            let prior = 1 / width
            let sum = ks.reduce(0.0) { s, k in s + exp(-0.5 * pow((x - k.0) / k.1, 2)) / (k.1 * (2 * Double.pi).squareRoot()) }
            return (sum + prior) / Double(ks.count + 1)
        }
        var best = a + rng.unit() * width, bestScore = -Double.infinity
        for _ in 0..<candidates {
            let pick = rng.below(kg.count + 1)
            var x: Double
            if pick == kg.count {
                x = a + rng.unit() * width
            } else {
                // Box–Muller around the chosen kernel, clipped to the interval.
                let u1 = max(rng.unit(), 1e-300), u2 = rng.unit()
                x = kg[pick].0 + kg[pick].1 * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                x = min(b, max(a, x))
            }
            let score = log(density(x, kg)) - log(density(x, kb))
            if score > bestScore { bestScore = score; best = x }
        }
        return finv(best)
    }
}
