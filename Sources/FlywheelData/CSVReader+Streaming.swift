import FlywheelCore
import Foundation

extension CSVReader {
    /// Infers each column's type from the whole file without keeping its values.
    public func inferTypes(contentsOf url: URL) throws -> [String: ColumnType] {
        var names: [String] = []
        var kinds: [ColumnType?] = []
        try Self.scan(source: url.lastPathComponent, delimiter: delimiter, input: .file(url), header: { h in
            names = h
            kinds = h.map { types[$0] }
        }, row: { record in
            for c in 0..<kinds.count where kinds[c] != .categorical {
                let f = record.field(c)
                if f.isEmpty || (!record.isQuoted(c) && ColumnBuilder.isMissing(f)) { continue }
                switch kinds[c] {
                case nil:
                    kinds[c] = DecimalParser.parse(f) != nil ? .numeric : (ColumnBuilder.boolValue(f) != nil ? .boolean : .categorical)
                case .numeric?:
                    if DecimalParser.parse(f) == nil {
                        if types[names[c]] == .numeric {
                            throw CSVLineError(line: record.line, message: "column '\(names[c])' is declared numeric but has '\(ColumnBuilder.display(f))'")
                        }
                        kinds[c] = .categorical
                    }
                case .boolean?:
                    if ColumnBuilder.boolValue(f) == nil {
                        if types[names[c]] == .boolean {
                            throw CSVLineError(line: record.line, message: "column '\(names[c])' is declared boolean but has '\(ColumnBuilder.display(f))'")
                        }
                        kinds[c] = .categorical
                    }
                case .categorical?:
                    break
                }
            }
        })
        return Dictionary(uniqueKeysWithValues: zip(names, kinds.map { $0 ?? .numeric }))
    }

    /// Reads the file in tables of at most `rows` rows, all with the same column types (inferred
    /// from the whole file first unless declared), so memory holds one chunk at a time.
    public func forEachChunk(
        contentsOf url: URL, rows: Int = 65_536, _ body: (_ chunk: Table, _ firstRow: Int) throws -> Void
    ) throws {
        let all = try inferTypes(contentsOf: url)
        var names: [String] = []
        var builders: [ColumnBuilder] = []
        var first = 0
        var pending = 0
        func flush() throws {
            let t = try Table(columns: builders.map { $0.finish() })
            try body(t, first)
            first += pending
            pending = 0
            builders = names.map { ColumnBuilder(name: $0, declared: all[$0]) }
        }
        try withoutActuallyEscaping(flush) { flush in
            try Self.scan(source: url.lastPathComponent, delimiter: delimiter, input: .file(url), header: { h in
                names = h
                builders = h.map { ColumnBuilder(name: $0, declared: all[$0]) }
            }, row: { record in
                try TableAssembler.add(record, to: &builders)
                pending += 1
                if pending == rows { try flush() }
            })
            if pending > 0 || first == 0 { try flush() }
        }
    }

    /// Profiles a file chunk by chunk: the file may be larger than memory.
    public func profile(contentsOf url: URL) throws -> Profile {
        var acc = ProfileAccumulator()
        try forEachChunk(contentsOf: url) { chunk, first in try acc.add(chunk, rowOffset: first) }
        return acc.finish()
    }
}
