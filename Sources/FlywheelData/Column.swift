import FlywheelCore

/// What a column holds.
public enum ColumnType: String, Hashable, Codable, Sendable, CaseIterable {
    /// Numbers, as `Double`; NaN is missing.
    case numeric
    /// Strings, dictionary-encoded.
    case categorical
    /// `true` / `false`.
    case boolean
}

/// One named column of a ``Table``.
public struct Column: Hashable, Sendable {
    /// Equality treats NaN (missing) as equal to NaN, so tables with missing values compare.
    public enum Storage: Hashable, Sendable {
        /// NaN marks a missing value.
        case numeric([Double])
        /// `codes[i]` indexes `categories`; -1 marks a missing value.
        case categorical(codes: [Int32], categories: [String])
        /// 0 false, 1 true, 2 missing.
        case boolean([UInt8])

        public static func == (a: Storage, b: Storage) -> Bool {
            switch (a, b) {
            case (.numeric(let x), .numeric(let y)):
                x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
            case (.categorical(let c1, let k1), .categorical(let c2, let k2)): c1 == c2 && k1 == k2
            case (.boolean(let x), .boolean(let y)): x == y
            default: false
            }
        }

        public func hash(into h: inout Hasher) {
            switch self {
            case .numeric(let x):
                h.combine(0)
                for v in x { h.combine(v.isNaN ? Double.nan.bitPattern : v.bitPattern) }
            case .categorical(let c, let k):
                h.combine(1)
                h.combine(c)
                h.combine(k)
            case .boolean(let x):
                h.combine(2)
                h.combine(x)
            }
        }
    }

    public var name: String
    public var storage: Storage

    public init(name: String, storage: Storage) {
        self.name = name
        self.storage = storage
    }

    public static func numeric(_ name: String, _ values: [Double]) -> Column { Column(name: name, storage: .numeric(values)) }

    /// A categorical column from strings; nil is missing. Categories are numbered in order of first appearance.
    public static func categorical(_ name: String, _ values: [String?]) -> Column {
        var index: [String: Int32] = [:]
        var categories: [String] = []
        let codes = values.map { v -> Int32 in
            guard let v else { return -1 }
            if let c = index[v] { return c }
            let c = Int32(categories.count)
            index[v] = c
            categories.append(v)
            return c
        }
        return Column(name: name, storage: .categorical(codes: codes, categories: categories))
    }

    public static func boolean(_ name: String, _ values: [Bool?]) -> Column {
        Column(name: name, storage: .boolean(values.map { $0.map { $0 ? 1 : 0 } ?? 2 }))
    }

    public var type: ColumnType {
        switch storage {
        case .numeric: .numeric
        case .categorical: .categorical
        case .boolean: .boolean
        }
    }

    public var count: Int {
        switch storage {
        case .numeric(let v): v.count
        case .categorical(let c, _): c.count
        case .boolean(let b): b.count
        }
    }

    public func isMissing(_ row: Int) -> Bool {
        switch storage {
        case .numeric(let v): v[row].isNaN
        case .categorical(let c, _): c[row] < 0
        case .boolean(let b): b[row] > 1
        }
    }

    public var missingCount: Int { (0..<count).reduce(0) { $0 + (isMissing($1) ? 1 : 0) } }

    /// The value at `row` as text (numbers in their shortest exact form), or nil when missing.
    public func text(_ row: Int) -> String? {
        switch storage {
        case .numeric(let v): v[row].isNaN ? nil : NumberFormatting.shortest(v[row])
        case .categorical(let c, let cats): c[row] < 0 ? nil : cats[Int(c[row])]
        case .boolean(let b): b[row] > 1 ? nil : (b[row] == 1 ? "true" : "false")
        }
    }

    /// The rows at `indices`, in that order.
    public func selecting(rows indices: [Int]) -> Column {
        switch storage {
        case .numeric(let v): Column(name: name, storage: .numeric(indices.map { v[$0] }))
        case .categorical(let c, let cats): Column(name: name, storage: .categorical(codes: indices.map { c[$0] }, categories: cats))
        case .boolean(let b): Column(name: name, storage: .boolean(indices.map { b[$0] }))
        }
    }
}

/// Number formatting shared by writers and messages.
public enum NumberFormatting {
    /// The shortest text that reads back as the same double; integers without a fraction.
    public static func shortest(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
