import FlywheelCore

/// A columnar table: named, typed columns of equal length.
///
/// Columns are value types backed by copy-on-write arrays, so selecting columns shares storage
/// instead of copying it. Selecting rows gathers the chosen rows into new arrays.
public struct Table: Hashable, Sendable {
    public private(set) var columns: [Column]
    public let rowCount: Int

    /// Builds a table, checking that names are unique and lengths agree.
    public init(columns: [Column]) throws {
        var seen: Set<String> = []
        for c in columns {
            guard seen.insert(c.name).inserted else {
                throw FlywheelError.invalidArgument("column '\(c.name)' appears twice: column names must be unique")
            }
        }
        let n = columns.first?.count ?? 0
        if let bad = columns.first(where: { $0.count != n }) {
            throw FlywheelError.invalidArgument("column '\(bad.name)' has \(bad.count) rows, the others \(n)")
        }
        self.columns = columns
        rowCount = n
    }

    public var columnNames: [String] { columns.map(\.name) }

    public func column(named name: String) -> Column? { columns.first { $0.name == name } }

    /// The column called `name`, or an error listing the columns there are.
    public func requireColumn(_ name: String) throws -> Column {
        guard let c = column(named: name) else {
            throw FlywheelError.invalidArgument(
                "no column '\(name)': the table has \(columnNames.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return c
    }

    /// Only the named columns, in that order (storage shared, not copied).
    public func selecting(columns names: [String]) throws -> Table {
        try Table(columns: names.map(requireColumn))
    }

    /// All columns but the named ones.
    public func dropping(columns names: Set<String>) -> Table {
        // invariant: a subset of unique, equal-length columns is a valid table.
        try! Table(columns: columns.filter { !names.contains($0.name) })
    }

    /// The rows at `indices`, in that order.
    public func selecting(rows indices: [Int]) -> Table {
        // invariant: every column gathers the same indices, so lengths agree and names stay unique.
        try! Table(columns: columns.map { $0.selecting(rows: indices) })
    }

    /// One row as text values by column name (nil = missing), for messages and JSON.
    public func row(_ r: Int) -> [String: String?] {
        Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0.text(r)) })
    }
}
