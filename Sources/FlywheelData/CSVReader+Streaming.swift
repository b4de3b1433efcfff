import FlywheelCore
import Foundation

extension CSVReader {
    /// Infers each column's type from the whole file without keeping its values.
    public func inferTypes(contentsOf url: URL) throws -> [String: ColumnType] {
        var names: [String] = []
        var kinds: [ColumnType?] = []
        var probe = ColumnBuilder(declared: nil)
        try Self.scan(source: url.lastPathComponent, delimiter: delimiter, feed: Self.fileFeed(url), header: { h in
            names = h
            kinds = h.map { types[$0] }
        }, row: { t, _ in
            for c in 0..<kinds.count where kinds[c] != .categorical {
                let f = t.field(c)
                if f.isEmpty || (!t.quoted[c] && ColumnBuilder.isMissing(f)) { continue }
                switch kinds[c] {
                case nil:
                    kinds[c] = probe.number(f) != nil ? .numeric : (ColumnBuilder.boolValue(f) != nil ? .boolean : .categorical)
                case .numeric?:
                    if probe.number(f) == nil {
                        if types[names[c]] == .numeric { throw t.error("column '\(names[c])' is declared numeric but has '\(ColumnBuilder.display(f))'") }
                        kinds[c] = .categorical
                    }
                case .boolean?:
                    if ColumnBuilder.boolValue(f) == nil {
                        if types[names[c]] == .boolean { throw t.error("column '\(names[c])' is declared boolean but has '\(ColumnBuilder.display(f))'") }
                        kinds[c] = .categorical
                    }
                case .categorical?:
                    break
                }
            }
        })
        return Dictionary(uniqueKeysWithValues: zip(names, kinds.map { $0 ?? .numeric }))
    }

    static func fileFeed(_ url: URL) -> ((Data, Bool) throws -> Void) throws -> Void {
        { consume in
            guard let h = FileHandle(forReadingAtPath: url.path) else {
                throw FlywheelError.notFound("cannot read '\(url.path)': no such file or not readable")
            }
            defer { try? h.close() }
            while let chunk = try h.read(upToCount: Self.chunkSize), !chunk.isEmpty { try consume(chunk, false) }
            try consume(Data(), true)
        }
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
            let t = try Table(columns: zip(names, builders).map { $1.finish(name: $0) })
            try body(t, first)
            first += pending
            pending = 0
            builders = names.map { ColumnBuilder(declared: all[$0]) }
        }
        try withoutActuallyEscaping(flush) { flush in
            try Self.scan(source: url.lastPathComponent, delimiter: delimiter, feed: Self.fileFeed(url), header: { h in
                names = h
                builders = h.map { ColumnBuilder(declared: all[$0]) }
            }, row: { t, _ in
                for c in 0..<builders.count { try builders[c].add(c, tokenizer: t, column: names[c]) }
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
