import FlywheelCore
import Foundation

/// Writes a ``Table`` as RFC 4180 CSV: a header, LF line ends, fields quoted only when they hold
/// a comma, quote, CR or LF (or would read back as missing), numbers in their shortest exact form,
/// missing values as empty fields.
public enum CSVWriter {
    public static func data(_ table: Table) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(table.rowCount * table.columns.count * 8)
        appendRecord(table.columnNames, to: &out)
        for r in 0..<table.rowCount {
            for (i, c) in table.columns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if let text = c.text(r) {
                    // A categorical value that looks like a missing marker must be quoted to survive.
                    appendField(text, forceQuote: c.type == .categorical && CSVReader.missingMarkers.contains(text), to: &out)
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
        return Data(out)
    }

    /// Writes atomically to `url` (a temp file renamed into place).
    public static func write(_ table: Table, to url: URL) throws {
        do { try data(table).write(to: url, options: .atomic) } catch {
            throw FlywheelError.invalidArgument("cannot write '\(url.path)': \(error.localizedDescription)")
        }
    }

    /// One CSV record (quoted where needed) with its line end.
    public static func line(_ fields: [String]) -> String {
        var out: [UInt8] = []
        appendRecord(fields, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendRecord(_ fields: [String], to out: inout [UInt8]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendField(f, forceQuote: false, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    static func appendField(_ s: String, forceQuote: Bool, to out: inout [UInt8]) {
        let needs = forceQuote || s.utf8.contains { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }
        guard needs else {
            out.append(contentsOf: s.utf8)
            return
        }
        out.append(34)
        for b in s.utf8 {
            if b == 34 { out.append(34) }
            out.append(b)
        }
        out.append(34)
    }
}
