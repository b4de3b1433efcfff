import Foundation
import Testing

/// The reference cases in Fixtures/drift-vectors.json (computed with scipy 1.17 and Evidently
/// 0.7.23; see drift-vectors-README.md), decoded as that README says.
// @unchecked: built once, never mutated; the expected values stay as JSONSerialization's `Any`.
struct DriftVectors: @unchecked Sendable {
    struct Column: @unchecked Sendable, CustomTestStringConvertible {
        var name: String
        var type: String
        /// Numeric columns: the decoded doubles (NaN and ±inf kept, as raw input).
        var reference: [Double]
        var current: [Double]
        /// Categorical columns: the values (nil = missing).
        var referenceText: [String?]
        var currentText: [String?]
        var expected: [String: Any]
        var testDescription: String { name }
    }

    struct Case: @unchecked Sendable {
        var name: String
        var columns: [Column]
        var datasetDrift: [String: Any]
    }

    let cases: [Case]

    static let shared: DriftVectors = {
        do { return try DriftVectors() } catch { fatalError("drift-vectors.json: \(error)") }
    }()

    init() throws {
        let url = try need(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("drift-vectors.json")
        let root = try need(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let raw = try need(root["cases"] as? [[String: Any]])
        cases = try raw.map { c in
            let columns = try need(c["columns"] as? [String: [String: Any]])
            return Case(
                name: try need(c["name"] as? String),
                columns: try columns.keys.sorted().map { name in
                    let col = try need(columns[name])
                    let type = try need(col["type"] as? String)
                    let (rn, rt) = try Self.decode(try need(col["reference"] as? [String: Any]), categorical: type == "categorical")
                    let (cn, ct) = try Self.decode(try need(col["current"] as? [String: Any]), categorical: type == "categorical")
                    return Column(name: name, type: type, reference: rn, current: cn, referenceText: rt, currentText: ct,
                                  expected: try need(col["expected"] as? [String: Any]))
                },
                datasetDrift: c["dataset_drift"] as? [String: Any] ?? [:])
        }
    }

    /// Numbers (json_list, int16_le_base64) or categories (json_list of strings, uint8_codes_base64).
    static func decode(_ side: [String: Any], categorical: Bool) throws -> ([Double], [String?]) {
        let encoding = try need(side["encoding"] as? String)
        switch encoding {
        case "json_list":
            let values = try need(side["values"] as? [Any])
            if categorical { return ([], values.map { $0 as? String }) }
            return (values.map { v in
                if let d = v as? Double { return d }
                if let i = v as? Int { return Double(i) }
                if let s = v as? String { return s == "Infinity" ? .infinity : -.infinity }
                return .nan
            }, [])
        case "int16_le_base64":
            let data = try need(Data(base64Encoded: try need((side["values"] ?? side["data"]) as? String)))
            return (stride(from: 0, to: data.count - 1, by: 2).map { i in
                Double(Int16(bitPattern: UInt16(data[data.startIndex + i]) | UInt16(data[data.startIndex + i + 1]) << 8)) / 1000.0
            }, [])
        case "uint8_codes_base64":
            let data = try need(Data(base64Encoded: try need((side["values"] ?? side["data"]) as? String)))
            let categories = try need(side["categories"] as? [String])
            return ([], data.map { categories[Int($0)] })
        default:
            throw FixtureError(description: "unknown encoding \(encoding)")
        }
    }

    /// Every column of every case, as (case, column).
    static var allColumns: [(String, Column)] { shared.cases.flatMap { c in c.columns.map { (c.name, $0) } } }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// Unwraps a fixture value (`#require` cannot nest).
func need<T>(_ value: T?, _ what: String = "a fixture value", line: Int = #line) throws -> T {
    guard let value else { throw FixtureError(description: "drift vectors: \(what) missing (DriftVectors.swift:\(line))") }
    return value
}

func number(_ v: Any?) -> Double? {
    if let d = v as? Double { return d }
    if let i = v as? Int { return Double(i) }
    if let s = v as? String { return s == "Infinity" ? .infinity : s == "-Infinity" ? -.infinity : nil }
    return nil
}

/// |a - b| within `rel` of |b| (or of 1e-300 near zero).
func close(_ a: Double, _ b: Double, rel: Double) -> Bool {
    if a == b { return true }
    if a.isNaN || b.isNaN { return false }
    return abs(a - b) <= rel * max(abs(b), 1e-300)
}
