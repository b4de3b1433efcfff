import FlywheelCore

/// What a table should look like: its columns, their types and allowed values.
///
/// Inferred from a table (``Schema/infer(from:maxCategories:)``) or written by hand as YAML or
/// JSON with the same keys:
///
/// ```yaml
/// columns:
///   - {name: sepal_length, type: numeric, min: 4.3, max: 7.9}
///   - {name: species, type: categorical, categories: [setosa, versicolor, virginica]}
///   - {name: note, type: categorical, nullable: true, max_missing_fraction: 0.1}
/// ```
public struct Schema: Hashable, Codable, Sendable {
    public var columns: [ColumnSchema]

    public init(columns: [ColumnSchema]) { self.columns = columns }

    public func column(named name: String) -> ColumnSchema? { columns.first { $0.name == name } }

    /// Checks the schema itself: unique names, and settings that fit each type.
    public func check() throws {
        var seen: Set<String> = []
        for (i, c) in columns.enumerated() {
            let at = "schema column \(i + 1) ('\(c.name)')"
            guard !c.name.isEmpty else { throw FlywheelError.invalidArgument("schema column \(i + 1) has an empty name") }
            guard seen.insert(c.name).inserted else { throw FlywheelError.invalidArgument("\(at) is named twice") }
            if c.type != .numeric, c.min != nil || c.max != nil {
                throw FlywheelError.invalidArgument("\(at): min and max apply to numeric columns only, not \(c.type.rawValue)")
            }
            if c.type != .categorical, c.categories != nil {
                throw FlywheelError.invalidArgument("\(at): categories apply to categorical columns only, not \(c.type.rawValue)")
            }
            if let lo = c.min, let hi = c.max, lo > hi {
                throw FlywheelError.invalidArgument("\(at): min \(NumberFormatting.shortest(lo)) is greater than max \(NumberFormatting.shortest(hi))")
            }
            if let f = c.maxMissingFraction, !(0...1).contains(f) {
                throw FlywheelError.invalidArgument("\(at): max_missing_fraction \(NumberFormatting.shortest(f)) is outside 0…1")
            }
        }
    }

    /// The schema of `table`: observed types, ranges, nullability, and the categories of
    /// categorical columns with at most `maxCategories` distinct values.
    public static func infer(from table: Table, maxCategories: Int = 100) -> Schema {
        Schema(columns: table.columns.map { c in
            var s = ColumnSchema(name: c.name, type: c.type, nullable: c.missingCount > 0)
            switch c.storage {
            case .numeric(let v):
                let finite = v.filter { !$0.isNaN }
                s.min = finite.min()
                s.max = finite.max()
            case .categorical(let codes, let cats):
                var used = Set<Int32>()
                for code in codes where code >= 0 { used.insert(code) }
                if used.count <= maxCategories { s.categories = used.sorted().map { cats[Int($0)] }.sorted() }
            case .boolean:
                break
            }
            return s
        })
    }
}

/// One column's expectations.
public struct ColumnSchema: Hashable, Codable, Sendable {
    public var name: String
    public var type: ColumnType
    /// Whether missing values are allowed at all (default true).
    public var nullable: Bool
    /// The largest allowed share of missing values, when nullable.
    public var maxMissingFraction: Double?
    public var min: Double?
    public var max: Double?
    /// The allowed categories; nil allows any.
    public var categories: [String]?

    public init(
        name: String, type: ColumnType, nullable: Bool = true, maxMissingFraction: Double? = nil, min: Double? = nil,
        max: Double? = nil, categories: [String]? = nil
    ) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.maxMissingFraction = maxMissingFraction
        self.min = min
        self.max = max
        self.categories = categories
    }

    enum CodingKeys: String, CodingKey {
        case name, type, nullable, min, max, categories
        case maxMissingFraction = "max_missing_fraction"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(ColumnType.self, forKey: .type)
        nullable = try c.decodeIfPresent(Bool.self, forKey: .nullable) ?? true
        maxMissingFraction = try c.decodeIfPresent(Double.self, forKey: .maxMissingFraction)
        min = try c.decodeIfPresent(Double.self, forKey: .min)
        max = try c.decodeIfPresent(Double.self, forKey: .max)
        categories = try c.decodeIfPresent([String].self, forKey: .categories)
    }
}
