import FlywheelCore
import Foundation

/// JSON Lines: one JSON object per line, keys as columns.
///
/// Reading: numbers make numeric columns, strings categorical, booleans boolean; `null` or an
/// absent key is missing. Columns appear in order of first appearance (keys new on the same
/// line in sorted order). A line that is not an
/// object, or a value whose type differs from the column's earlier values, is an error naming
/// the line and field.
public enum JSONLines {
    public static func read(contentsOf url: URL) throws -> Table {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FlywheelError.notFound("cannot read '\(url.path)': no such file or not readable")
        }
        return try read(data, source: url.lastPathComponent)
    }

    enum Values {
        case numeric([Double])
        case text([String?])
        case boolean([Bool?])
    }

    public static func read(_ data: Data, source: String = "input") throws -> Table {
        var order: [String] = []
        var columns: [String: Values] = [:]
        var rows = 0
        var lineNo = 0
        let decoder = JSONDecoder()
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            if raw.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let object: [String: JSONValue]
            do { object = try decoder.decode([String: JSONValue].self, from: Data(raw)) } catch {
                throw FlywheelError.invalidArgument("\(source) line \(lineNo): expected one JSON object on the line")
            }
            // New keys join in sorted order (a JSON object's key order is not kept by the decoder).
            for key in object.keys.sorted() where columns[key] == nil {
                switch object[key] {
                case .number: columns[key] = .numeric([Double](repeating: .nan, count: rows))
                case .string: columns[key] = .text([String?](repeating: nil, count: rows))
                case .bool: columns[key] = .boolean([Bool?](repeating: nil, count: rows))
                case .null, nil: continue
                case .array, .object:
                    throw FlywheelError.invalidArgument("\(source) line \(lineNo): field '\(key)' is a nested array or object; expected a number, string, boolean or null")
                }
                order.append(key)
            }
            func mismatch(_ key: String, _ expected: String) -> FlywheelError {
                .invalidArgument("\(source) line \(lineNo): field '\(key)' should be \(expected) like the lines before it")
            }
            for key in order {
                let value = object[key] ?? .null
                // invariant: every key in `order` has an entry in `columns`.
                switch columns[key]! {
                case .numeric(var v):
                    columns[key] = nil
                    switch value {
                    case .number(let d): v.append(d)
                    case .null: v.append(.nan)
                    default: throw mismatch(key, "a number")
                    }
                    columns[key] = .numeric(v)
                case .text(var v):
                    columns[key] = nil
                    switch value {
                    case .string(let t): v.append(t)
                    case .null: v.append(nil)
                    default: throw mismatch(key, "a string")
                    }
                    columns[key] = .text(v)
                case .boolean(var v):
                    columns[key] = nil
                    switch value {
                    case .bool(let b): v.append(b)
                    case .null: v.append(nil)
                    default: throw mismatch(key, "true or false")
                    }
                    columns[key] = .boolean(v)
                }
            }
            rows += 1
        }
        return try Table(columns: order.map { key in
            switch columns[key] {
            case .numeric(let v): .numeric(key, v)
            case .text(let v): .categorical(key, v)
            case .boolean(let v): .boolean(key, v)
            case nil: .numeric(key, [])
            }
        })
    }

    /// One object per row; missing values are `null`, non-finite numbers too.
    public static func data(_ table: Table) throws -> Data {
        var out = Data()
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for r in 0..<table.rowCount {
            var object: [String: JSONValue] = [:]
            for c in table.columns {
                switch c.storage {
                case .numeric(let v): object[c.name] = v[r].isFinite ? .number(v[r]) : .null
                case .categorical: object[c.name] = c.text(r).map(JSONValue.string) ?? .null
                case .boolean(let b): object[c.name] = b[r] > 1 ? .null : .bool(b[r] == 1)
                }
            }
            out.append(try enc.encode(object))
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }
}
