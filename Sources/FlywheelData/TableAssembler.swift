import FlywheelCore

/// Turns CSV text into column builders: the header, then the records.
///
/// Text that can be read at any offset (a regular file, bytes in memory) is read on every core
/// (see `TableAssembler+Parallel.swift`); a stream goes through ``consume(_:final:)`` block by
/// block on one thread.
struct TableAssembler {
    let source: String
    let types: [String: ColumnType]
    let tuning: CSVReader.Tuning
    private(set) var names: [String]?
    var builders: [ColumnBuilder] = []
    /// The line on which the next block starts.
    var line = 1
    private var started = false
    let tokenizer: CSVTokenizer

    init(source: String, delimiter: UInt8, types: [String: ColumnType], tuning: CSVReader.Tuning) {
        self.source = source
        self.types = types
        self.tuning = tuning
        tokenizer = CSVTokenizer(delimiter: delimiter)
    }

    /// Reads the header if it is not known yet; returns where the records start, or nil when the
    /// header is not complete in `block` (`end` is then how many bytes can be dropped).
    mutating func header(_ block: UnsafeBufferPointer<UInt8>, final: Bool, end: inout Int) throws(CSVLineError) -> Int? {
        var start = 0
        if !started {
            guard let s = CSVReader.textStart(block, final: final) else { return nil }
            start = s
            started = true
        }
        guard names == nil else { return start }
        var header: [String]?
        let stop: CSVTokenizer.Stop
        do {
            stop = try tokenizer.tokenize(block, from: start, limit: block.count, final: final, line: line) { record in
                header = try CSVReader.headerNames(record)
                return false
            }
        } catch {
            // invariant: the tokenizer and headerNames throw only CSVLineError.
            throw error as? CSVLineError ?? CSVLineError(line: line, message: "\(error)")
        }
        line = stop.line
        end = stop.end
        guard let header else { return nil }
        names = header
        builders = header.map { ColumnBuilder(name: $0, declared: types[$0]) }
        return stop.end
    }

    /// Forgets a header that was not complete, to read it again from the start of the text.
    mutating func resetHeader() {
        started = false
        line = 1
    }

    /// Parses the complete records of `block`; returns how many bytes it used.
    mutating func consume(_ block: UnsafeBufferPointer<UInt8>, final: Bool) throws -> Int {
        do {
            var end = 0
            guard let start = try header(block, final: final, end: &end) else { return end }
            var columns: [ColumnBuilder] = []
            swap(&columns, &builders)  // uniquely referenced while rows are appended
            defer { swap(&columns, &builders) }
            let stop = try Self.parseRows(
                block, from: start, limit: block.count, final: final, line: line, into: &columns, tokenizer: tokenizer,
                fused: tuning.fusedRecords, powers: PowersOfFive.shared)
            line = stop.line
            return stop.end
        } catch let e as CSVLineError {
            throw e.named(source)
        }
    }

    /// Adds one record to `builders`, after checking its field count.
    @inline(__always)
    static func add(_ record: CSVRecord, to builders: inout [ColumnBuilder]) throws {
        guard record.count == builders.count else {
            throw CSVLineError(line: record.line, message: "expected \(builders.count) fields as in the header, found \(record.count)")
        }
        try builders.withUnsafeMutableBufferPointer { b in
            for c in 0..<b.count { try b[c].add(record.field(c), quoted: record.isQuoted(c), line: record.line) }
        }
    }
}
