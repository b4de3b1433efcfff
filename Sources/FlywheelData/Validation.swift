import FlywheelCore

/// One way a table breaks its schema, with how often and examples.
public struct Anomaly: Hashable, Codable, Sendable {
    public enum Kind: String, Hashable, Codable, Sendable {
        case missingColumn = "missing_column"
        case extraColumn = "extra_column"
        case typeMismatch = "type_mismatch"
        case unexpectedMissing = "unexpected_missing"
        case tooManyMissing = "too_many_missing"
        case belowMinimum = "below_minimum"
        case aboveMaximum = "above_maximum"
        case unseenCategory = "unseen_category"
    }
    public var column: String
    public var kind: Kind
    /// How many rows show it (0 for column-level anomalies).
    public var count: Int
    /// `count` over the rows checked.
    public var fraction: Double
    /// Up to five offending values.
    public var examples: [String]
    /// A sentence a person can act on.
    public var message: String
}

/// The result of validating a table against a schema, like TensorFlow Data Validation's anomalies.
public struct AnomalyReport: Hashable, Codable, Sendable {
    public var rows: Int
    public var anomalies: [Anomaly]
    public var isValid: Bool { anomalies.isEmpty }
}

extension Schema {
    /// Checks `table` against the schema and lists every anomaly (nothing stops at the first).
    public func validate(_ table: Table) -> AnomalyReport {
        var out: [Anomaly] = []
        let n = table.rowCount
        func add(_ column: String, _ kind: Anomaly.Kind, _ count: Int, _ examples: [String], _ message: String) {
            out.append(Anomaly(column: column, kind: kind, count: count, fraction: n == 0 ? 0 : Double(count) / Double(n),
                               examples: Array(examples.prefix(5)), message: message))
        }
        for expected in columns {
            guard let col = table.column(named: expected.name) else {
                add(expected.name, .missingColumn, 0, [], "column '\(expected.name)' (\(expected.type.rawValue)) is missing")
                continue
            }
            let missing = col.missingCount
            if missing > 0, !expected.nullable {
                add(expected.name, .unexpectedMissing, missing, [],
                    "column '\(expected.name)' may not be missing but is in \(missing) of \(n) rows")
            } else if let limit = expected.maxMissingFraction, n > 0, Double(missing) / Double(n) > limit {
                add(expected.name, .tooManyMissing, missing, [],
                    "column '\(expected.name)' is missing in \(missing) of \(n) rows, over the limit of \(NumberFormatting.shortest(limit * 100))%")
            }
            switch (expected.type, col.storage) {
            case (.numeric, .numeric(let v)):
                if let lo = expected.min {
                    let below = v.filter { $0 < lo }
                    if !below.isEmpty {
                        add(expected.name, .belowMinimum, below.count, Self.distinctExamples(below.map(NumberFormatting.shortest)),
                            "column '\(expected.name)' has \(below.count) values below the minimum \(NumberFormatting.shortest(lo))")
                    }
                }
                if let hi = expected.max {
                    let above = v.filter { $0 > hi }
                    if !above.isEmpty {
                        add(expected.name, .aboveMaximum, above.count, Self.distinctExamples(above.map(NumberFormatting.shortest)),
                            "column '\(expected.name)' has \(above.count) values above the maximum \(NumberFormatting.shortest(hi))")
                    }
                }
            case (.categorical, .categorical(let codes, let cats)):
                if let allowed = expected.categories.map(Set.init) {
                    var counts: [Int32: Int] = [:]
                    for c in codes where c >= 0 && !allowed.contains(cats[Int(c)]) { counts[c, default: 0] += 1 }
                    let total = counts.values.reduce(0, +)
                    if total > 0 {
                        let examples = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { cats[Int($0.key)] }
                        add(expected.name, .unseenCategory, total, examples,
                            "column '\(expected.name)' has \(total) values in \(counts.count) categories the schema does not allow")
                    }
                }
            case (.boolean, .boolean):
                break
            case (.categorical, _):
                break  // numbers or booleans read as categories are still values; categories decide
            case (.numeric, _), (.boolean, _):
                // The column was read as another type: count the values that are not of the expected one.
                var bad: [String] = []
                for r in 0..<n {
                    guard let text = col.text(r) else { continue }
                    let ok = expected.type == .numeric ? Double(text) != nil : ["true", "false"].contains(text.lowercased())
                    if !ok { bad.append(text) }
                }
                add(expected.name, .typeMismatch, bad.count, Self.distinctExamples(bad),
                    "column '\(expected.name)' should be \(expected.type.rawValue) but \(bad.count) values are not (read as \(col.type.rawValue))")
            }
        }
        let known = Set(columns.map(\.name))
        for c in table.columns where !known.contains(c.name) {
            add(c.name, .extraColumn, 0, [], "column '\(c.name)' is not in the schema")
        }
        return AnomalyReport(rows: n, anomalies: out)
    }

    static func distinctExamples(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }
}
