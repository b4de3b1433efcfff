// Small helpers shared by the benchmark modes: clocks, medians, option parsing, JSON output.
import Foundation

/// Prints a message to standard error and exits with status 2.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("flywheel-bench: \(message)\n".utf8))
    exit(2)
}

/// Writes a progress line to standard error.
func note(_ message: String) {
    FileHandle.standardError.write(Data("flywheel-bench: \(message)\n".utf8))
}

/// Monotonic wall clock in nanoseconds.
@inline(__always)
func wallNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// CPU time of the whole process (every thread, user + system), in seconds.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// One timed execution: wall and process CPU seconds.
struct Sample {
    var wall: Double
    var cpu: Double
}

/// Runs `body` once and returns its result with the wall and CPU time it took.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Sample) {
    let cpu0 = processCPUSeconds()
    let t0 = wallNanos()
    let value = try body()
    let t1 = wallNanos()
    let cpu1 = processCPUSeconds()
    return (value, Sample(wall: Double(t1 - t0) / 1e9, cpu: cpu1 - cpu0))
}

/// The median of `values` (mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let m = s.count / 2
    return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/// The `q`-quantile (0…1) of `values`, nearest rank.
func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let i = min(s.count - 1, max(0, Int((q * Double(s.count)).rounded(.up)) - 1))
    return s[i]
}

/// Summary of a list of samples for the JSON output.
func summary(_ samples: [Sample]) -> [String: Any] {
    [
        "wall_seconds": median(samples.map(\.wall)),
        "cpu_seconds": median(samples.map(\.cpu)),
        "wall_all": samples.map(\.wall),
        "cpu_all": samples.map(\.cpu),
    ]
}

/// `--key value` options; every key must be one of `known`.
struct OptionBag {
    private var values: [String: String] = [:]

    init(_ arguments: [String], known: Set<String>, mode: String) {
        var args = arguments[...]
        while let a = args.popFirst() {
            guard a.hasPrefix("--"), known.contains(String(a.dropFirst(2))) else {
                fail("unknown option \(a) for \(mode); expected one of \(known.sorted().map { "--" + $0 }.joined(separator: ", "))")
            }
            guard let v = args.popFirst() else { fail("option \(a) needs a value") }
            values[String(a.dropFirst(2))] = v
        }
    }

    func string(_ key: String, _ fallback: String? = nil) -> String {
        guard let v = values[key] ?? fallback else { fail("--\(key) is required") }
        return v
    }

    func int(_ key: String, _ fallback: Int) -> Int {
        guard let v = values[key] else { return fallback }
        guard let i = Int(v) else { fail("--\(key) needs a whole number, got '\(v)'") }
        return i
    }

    func optionalInt(_ key: String) -> Int? {
        guard let v = values[key] else { return nil }
        guard let i = Int(v) else { fail("--\(key) needs a whole number, got '\(v)'") }
        return i
    }
}

/// Prints `object` as one line of JSON with sorted keys.
func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
