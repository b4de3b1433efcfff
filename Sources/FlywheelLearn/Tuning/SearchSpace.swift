import FlywheelCore
import Foundation

/// A hyperparameter value.
public enum ParamValue: Hashable, Codable, Sendable, CustomStringConvertible {
    case int(Int)
    case real(Double)
    case string(String)

    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .real(let d): d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case .string(let s): s
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .real(let d): d
        case .string: nil
        }
    }
}

/// Where one hyperparameter may range.
public enum ParamDomain: Hashable, Codable, Sendable {
    /// One of these values.
    case choice([ParamValue])
    /// An integer in `low...high`, optionally log-uniform.
    case int(low: Int, high: Int, log: Bool)
    /// A real in `low...high`, optionally log-uniform.
    case real(low: Double, high: Double, log: Bool)
}

/// The hyperparameters to search, in a fixed order.
public struct SearchSpace: Hashable, Codable, Sendable {
    public var names: [String]
    public var domains: [ParamDomain]

    public init(_ params: [(String, ParamDomain)]) throws {
        names = params.map(\.0)
        domains = params.map(\.1)
        for (n, d) in params {
            switch d {
            case .choice(let v) where v.isEmpty:
                throw FlywheelError.invalidArgument("search space '\(n)': a choice needs at least one value")
            case .int(let lo, let hi, let log) where lo > hi || (log && lo < 1):
                throw FlywheelError.invalidArgument("search space '\(n)': expected low ≤ high\(log ? " and low ≥ 1 for a log scale" : "")")
            case .real(let lo, let hi, let log) where !(lo <= hi) || (log && lo <= 0):
                throw FlywheelError.invalidArgument("search space '\(n)': expected low ≤ high\(log ? " and low > 0 for a log scale" : "")")
            default: break
            }
        }
    }

    /// Every combination, for grid search; ranges must be choices or small integer ranges.
    public func grid(limit: Int = 10_000) throws -> [[String: ParamValue]] {
        var axes: [[ParamValue]] = []
        for (n, d) in zip(names, domains) {
            switch d {
            case .choice(let v): axes.append(v)
            case .int(let lo, let hi, _) where hi - lo < 100: axes.append((lo...hi).map(ParamValue.int))
            default:
                throw FlywheelError.invalidArgument("grid search needs a list of values for '\(n)' (a continuous or large range has no grid); use random or bayes search")
            }
        }
        let total = axes.reduce(1) { $0 * $1.count }
        guard total <= limit else {
            throw FlywheelError.invalidArgument("the grid has \(total) combinations, over the limit of \(limit): narrow it or use random search")
        }
        var out: [[String: ParamValue]] = [[:]]
        for (n, axis) in zip(names, axes) {
            out = out.flatMap { partial in axis.map { v in partial.merging([n: v]) { $1 } } }
        }
        return out
    }

    /// One uniform (or log-uniform) draw of every parameter.
    public func sample(_ rng: inout SeededRandom) -> [String: ParamValue] {
        var out: [String: ParamValue] = [:]
        for (n, d) in zip(names, domains) { out[n] = Self.draw(d, &rng) }
        return out
    }

    static func draw(_ d: ParamDomain, _ rng: inout SeededRandom) -> ParamValue {
        switch d {
        case .choice(let v): return v[rng.below(v.count)]
        case .int(let lo, let hi, let log):
            if log {
                let x = exp(Foundation.log(Double(lo)) + rng.unit() * (Foundation.log(Double(hi) + 1) - Foundation.log(Double(lo))))
                return .int(min(hi, max(lo, Int(x.rounded(.down)))))
            }
            return .int(lo + rng.below(hi - lo + 1))
        case .real(let lo, let hi, let log):
            if log { return .real(exp(Foundation.log(lo) + rng.unit() * (Foundation.log(hi) - Foundation.log(lo)))) }
            return .real(lo + rng.unit() * (hi - lo))
        }
    }
}
